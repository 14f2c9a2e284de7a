import DataplaneContract
import IKEv2
import Logging
import NetTypes
import Topology

/// Wires `viaduct status` / `viaduct events` into a running daemon: a `TunnelStatusBook` fed
/// from every session event, and a `ControlServer` on the loop's thread that answers from it.
/// Kept apart from `NodeDaemon.run` so the daemon's start-up reads as before plus one call.
public enum NodeControl {
    /// Default control socket of a node: one per node, so several daemons (the namespace lab)
    /// can run on one machine.
    public static func defaultSocketPath(node: String) -> String { "/run/viaduct/\(node).sock" }

    /// The read-only status socket beside a control socket: `dc1.sock` -> `dc1.status.sock`.
    public static func statusSocketPath(beside control: String) -> String {
        (control.hasSuffix(".sock") ? String(control.dropLast(".sock".count)) : control) + ".status.sock"
    }

    /// Opens the control socket at `path` (nil: no socket, nothing recorded) and hooks the
    /// book into `loop.core`. The caller closes the returned server when the loop ends.
    public static func attach(to loop: IKEEventLoop, plan: NodePlan, dataplane: any DataplaneBackend, path: String?,
                              clock: any MonotonicClock, wall: any WallClock = SystemWallClock(),
                              logger: Logger, applier: PlanApplier? = nil, version: String? = nil,
                              statusGroup: UInt32? = nil, expiry: CredentialExpiryMonitor? = nil,
                              names: PeerNameResolver? = nil) throws(DaemonError) -> [ControlServer] {
        guard let path else { return [] }
        let core = loop.core
        let book = TunnelStatusBook(plan: plan, peers: core.peers, dataplane: dataplane.name, startedAt: clock.now(),
                                    version: version)
        book.uncarriedESP = uncarriedESP(plan: plan, dataplane: dataplane.espSupport)
        if let names { book.peerNames = { names.status(of: $0) } }
        // The book knows the sessions; the expiry monitor adds the dates and the reasons they cause.
        let status = { (now: IKEInstant) -> NodeStatus in
            var s = book.snapshot(now: now, daemon: core.counters, counters: { dataplane.counters(inboundSPI: $0) },
                                  rekeyDeadlines: { core.endpoint.rekeyDeadlines(of: $0) })
            expiry?.decorate(&s)
            return s
        }
        let server = ControlServer(socket: try ControlSocket(path: path), status: status, perform: { command, peer, now in
            core.perform(command, tunnel: TunnelID(peer: peer), now: now)
        })
        // With --status-group, a second socket serves status and events to that group (a NOC
        // user needs no root); it shares the book, so both answer the same.
        var servers = [server]
        if let statusGroup {
            let statusPath = statusSocketPath(beside: path)
            servers.append(ControlServer(socket: try ControlSocket(path: statusPath, group: statusGroup), readOnly: true,
                                         status: status))
            logger.info("status socket listening", metadata: ["path": "\(statusPath)", "group": "\(statusGroup)"])
        }
        let previous = core.onEvent
        core.onEvent = { tunnel, event in
            previous?(tunnel, event)
            let e = book.record(tunnel: tunnel, event: event, now: clock.now(), epochSeconds: wall.epochSeconds())
            for s in servers { s.publish(e) }
        }
        let previousRefused = core.onChildSARefused
        core.onChildSARefused = { tunnel, sa, error in
            previousRefused?(tunnel, sa, error)
            let e = book.recordRefused(tunnel: tunnel, sa: sa, reason: error.message, epochSeconds: wall.epochSeconds())
            for s in servers { s.publish(e) }
        }
        if let applier {
            let previous = applier.onApplied
            applier.onApplied = { plan, diff in
                previous?(plan, diff)
                book.update(plan: plan, peers: core.peers, fresh: Set(diff.tunnelIDs(.reestablish)))
                book.uncarriedESP = uncarriedESP(plan: plan, dataplane: dataplane.espSupport)
            }
            server.applier = ControlApplyHandler(applier: applier)
            let taken = applier.onCredentialsTaken, refused = applier.onCredentialsRefused
            applier.onCredentialsTaken = { credentials, changes in
                taken?(credentials, changes)
                let e = TunnelEvent(at: wall.epochSeconds(), peer: "*", kind: .credentialsReloaded, spis: nil,
                                    detail: changes.joined(separator: "; "))
                for s in servers { s.publish(e) }
            }
            applier.onCredentialsRefused = { error in
                refused?(error)
                let e = TunnelEvent(at: wall.epochSeconds(), peer: "*", kind: .credentialsRefused, spis: nil,
                                    detail: error.message + "; the credentials in use stay")
                for s in servers { s.publish(e) }
            }
        }
        if let expiry {
            let previous = expiry.onWarning
            expiry.onWarning = { w in
                previous?(w)
                let e = TunnelEvent(at: wall.epochSeconds(), peer: w.item.peer ?? "*", kind: .certificateExpiring, spis: nil,
                                    detail: w.message)
                for s in servers { s.publish(e) }
            }
        }
        loop.sources.append(contentsOf: servers as [any EventLoopSource])
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        return servers
    }

    /// For `status`: each tunnel's ESP transforms `dataplane` cannot carry, with the data plane named.
    static func uncarriedESP(plan: NodePlan, dataplane: DataplaneKind) -> [TunnelID: String] {
        var notes: [TunnelID: String] = [:]
        for t in plan.tunnels {
            let esp = PeerConfigurationMapper.espProposals(for: t, dataplane: dataplane)
            if !esp.dropped.isEmpty { notes[t.tunnel] = esp.dropped.joined(separator: "; ") }
        }
        return notes
    }
}
