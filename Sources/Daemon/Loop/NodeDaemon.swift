import DataplaneContract
import IKEv2
import Logging
import Topology

/// Runs one gateway's IKE daemon in the foreground: blocks SIGINT/SIGTERM/SIGHUP into a signalfd,
/// opens the IKE sockets on the node's underlay addresses, registers a peer per planned tunnel,
/// and runs the event loop until signalled. Every descriptor it opens is closed before it
/// returns, on success and on error.
public enum NodeDaemon {
    /// The local addresses to bind: every address a tunnel uses, in plan order.
    public static func localAddresses(_ plan: NodePlan) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for t in plan.tunnels where !out.contains(t.ike.localAddress.bytes) { out.append(t.ike.localAddress.bytes) }
        return out
    }

    /// - Parameter makeFactory: builds the session factory for a new plan (credentials reloaded);
    ///   with it the control socket takes `apply`, without it plan changes are refused.
    public static func run(plan: NodePlan, factory: any IKESessionFactory, dataplane: any DataplaneBackend,
                           options: DaemonOptions, clock: any MonotonicClock, logger: Logger,
                           names: PeerNameResolver? = nil,
                           makeFactory: ((NodePlan) throws(DaemonError) -> any IKESessionFactory)? = nil) throws(DaemonError) -> IKEEventLoop.Stop {
        let signals = try SignalDescriptor()
        defer { signals.close() }
        let addresses = localAddresses(plan)
        guard !addresses.isEmpty else {
            throw DaemonError(.configuration, "node \(plan.node) has no tunnels: nothing to run")
        }
        let sockets = try IKESocketSet(addresses: addresses, ports: options.ports, bypassPolicies: options.bypassPolicies) { s, outcome in
            switch outcome {
            case .installed:
                logger.debug("IPsec bypass policy installed", metadata: ["socket": "\(s.local)"])
            case .unsupported:
                logger.warning("kernel has no XFRM: IKE socket without bypass policy", metadata: ["socket": "\(s.local)"])
            }
        }
        defer { sockets.close() }
        for s in sockets.sockets {
            logger.info("listening", metadata: ["socket": "\(s.local)", "bypass": "\(options.bypassPolicies)"])
        }
        let core = EndpointDriver(factory: factory, dataplane: dataplane, logger: logger,
                              reinitiateDelaySeconds: options.reinitiateDelaySeconds,
                              admission: try options.admission.map { (p) throws(DaemonError) in
                                  try IKEAdmissionGate.production(p, peers: plan.tunnels.count) })
        for t in plan.tunnels { core.add(peer: IKETunnelPeer(tunnel: t, ports: options.ports)) }
        // A data plane that reads 4500 itself (userspace) takes it over before any IKE flows.
        let sharing = dataplane as? any SocketSharingDataplane
        let shared = try sharing?.attach(sockets: sockets) ?? SharedSockets()
        defer { sharing?.detach() }
        logger.info("daemon started", metadata: [
            "node": "\(plan.node)", "peers": "\(plan.tunnels.count)", "dataplane": "\(dataplane.name)",
            "version": "\(options.version)",
        ])
        let loop = IKEEventLoop(sockets: sockets, core: core, signals: signals, clock: clock, logger: logger)
        if let names {
            names.configure(plan)
            names.onAnswer = { [ports = options.ports] tunnel, answer, waited, now in
                PeerNameResolver.perform(answer, tunnel: tunnel, waited: waited, now: now, ports: ports, core: core, logger: logger)
            }
            loop.sources.append(names)
        }
        // Expiry of what authentication depends on: the credentials in use and what peers show.
        let expiry = CredentialExpiryMonitor(credentials: { [core] in (core.factory as? any CredentialCarrying)?.credentials },
                                             peers: (factory as? any CredentialCarrying)?.peerCertificates,
                                             wall: SystemWallClock(), logger: logger)
        loop.sources.append(expiry)
        let applier = makeFactory.map {
            PlanApplier(plan: plan, core: core, dataplane: dataplane, listening: addresses, ports: options.ports,
                        logger: logger, makeFactory: $0)
        }
        applier?.pauseBetweenPhasesSeconds = options.applyPauseSeconds
        let control = try NodeControl.attach(to: loop, plan: plan, dataplane: dataplane, path: options.controlSocketPath,
                                             clock: clock, logger: logger, applier: applier, version: options.version,
                                             statusGroup: options.statusGroup, expiry: expiry, names: names)
        defer { for c in control { c.close() } }
        let metrics = try NodeMetrics.attach(to: loop, plan: plan, dataplane: dataplane, address: options.metricsAddress,
                                             clock: clock, logger: logger, applier: applier, version: options.version,
                                             expiry: expiry)
        defer { metrics?.close() }
        loop.shared = shared
        // Syncs plan against what the last one left; this repairs what others changed meanwhile.
        if let resyncing = dataplane as? any KernelResyncing { loop.sources.append(KernelResyncTimer(resyncing)) }
        let systemd = NodeSystemd(notifier: SystemdNotifier.fromEnvironment(), tunnels: plan.tunnels.count)
        systemd.attach(to: loop)
        if let applier {
            let previous = applier.onApplied
            applier.onApplied = { plan, diff in
                previous?(plan, diff)
                // Answers for names the plan dropped are dropped; the others are looked up again.
                names?.configure(plan)
                names?.refresh()
                systemd.update(tunnels: plan.tunnels.map(\.tunnel))
                expiry.peers?.keep(only: Set(plan.tunnels.map(\.tunnel)))
            }
            let taken = applier.onCredentialsTaken
            applier.onCredentialsTaken = { [clock] credentials, changes in
                taken?(credentials, changes)
                expiry.check(now: clock.now())
            }
            // The credential files changed on disk: take them once they settle (or keep the old).
            // Without inotify (no instance left: fs.inotify.max_user_instances) the daemon runs on;
            // SIGHUP and apply still reload.
            if options.watchCredentialFiles {
                do throws(DaemonError) {
                    let watcher = try CredentialFileWatcher(plan: plan, logger: logger) { now in
                        _ = applier.reloadCredentials(now: now, cause: "files changed")
                    }
                    loop.sources.append(watcher)
                    let previous = applier.onApplied
                    applier.onApplied = { plan, diff in
                        previous?(plan, diff)
                        watcher.follow(plan)
                    }
                } catch {
                    logger.warning("credential files are not watched: reload them with 'systemctl reload' or 'viaduct apply'",
                                   metadata: ["reason": "\(error.message)"])
                }
            }
            // SIGHUP (systemctl reload) without a topology file: the credentials only.
            if options.topologyFile == nil {
                loop.onReload = { [clock] in _ = applier.reloadCredentials(now: clock.now(), cause: "SIGHUP") }
            }
            // SIGHUP (systemctl reload): apply the topology file the daemon was started with.
            if let file = options.topologyFile {
                loop.onReload = { [clock] in
                    switch ControlApplyHandler.plan(file: file, node: plan.node) {
                    case .failure(let e):
                        logger.error("reload refused: the topology is invalid; nothing changed", metadata: ["file": "\(file)", "reason": "\(e.message)"])
                    case .success(let next):
                        do throws(DaemonError) {
                            let outcome = try applier.apply(next, now: clock.now())
                            logger.notice("reloaded", metadata: ["file": "\(file)", "changes": "\(outcome.diff.rendered().split(separator: "\n").last ?? "")"])
                        } catch {
                            logger.error("reload refused; nothing changed", metadata: ["file": "\(file)", "reason": "\(error.message)"])
                        }
                    }
                }
            }
        }
        expiry.check(now: clock.now())
        systemd.ready()
        defer { systemd.stopping(); systemd.notifier.close() }
        let stop = try loop.run()
        let c = core.counters
        logger.info("daemon stopped", metadata: [
            "received": "\(c.datagramsReceived)", "sent": "\(c.datagramsSent)", "unknown_peer": "\(c.unknownPeer)",
            "unknown_spi": "\(c.unknownSPI)", "malformed": "\(c.malformed)", "esp_dropped": "\(c.espOnNATTPort)",
            "cookies_sent": "\(c.admission.cookiesSent)", "admission_dropped": "\(c.admission.droppedTotal)",
            "half_open_peak": "\(c.admission.halfOpenPeak)",
        ])
        return stop
    }
}
