import Logging
import Topology

/// Runs one gateway's IKE daemon in the foreground: blocks SIGINT/SIGTERM into a signalfd,
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

    public static func run(plan: NodePlan, factory: any IKESessionFactory, dataplane: any DataplaneBackend,
                           options: DaemonOptions, clock: any MonotonicClock, logger: Logger) throws(DaemonError) -> IKEEventLoop.Stop {
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
        let core = DaemonCore(factory: factory, dataplane: dataplane, logger: logger,
                              reinitiateDelaySeconds: options.reinitiateDelaySeconds)
        for t in plan.tunnels { core.add(peer: DaemonPeer(tunnel: t, ports: options.ports)) }
        // A data plane that reads 4500 itself (userspace) takes it over before any IKE flows.
        let sharing = dataplane as? any SocketSharingDataplane
        let shared = try sharing?.attach(sockets: sockets) ?? SharedSockets()
        defer { sharing?.detach() }
        logger.info("daemon started", metadata: [
            "node": "\(plan.node)", "peers": "\(plan.tunnels.count)", "dataplane": "\(dataplane.name)",
        ])
        let loop = IKEEventLoop(sockets: sockets, core: core, signals: signals, clock: clock, logger: logger)
        let control = try NodeControl.attach(to: loop, plan: plan, dataplane: dataplane, path: options.controlSocketPath,
                                             clock: clock, logger: logger)
        defer { control?.close() }
        loop.shared = shared
        // Syncs plan against what the last one left; this repairs what others changed meanwhile.
        if let resyncing = dataplane as? any KernelResyncing { loop.sources.append(KernelResyncTimer(resyncing)) }
        let stop = try loop.run()
        let c = core.counters
        logger.info("daemon stopped", metadata: [
            "received": "\(c.datagramsReceived)", "sent": "\(c.datagramsSent)", "unknown_peer": "\(c.unknownPeer)",
            "unknown_spi": "\(c.unknownSPI)", "malformed": "\(c.malformed)", "esp_dropped": "\(c.espOnNATTPort)",
        ])
        return stop
    }
}
