import DataplaneContract
import Logging
import Topology

/// Wires the Prometheus endpoint (`viaduct run --metrics ADDRESS:PORT`) into a running daemon:
/// a `DaemonMetrics` fed from every session event and initiation, and a `MetricsServer` on the
/// loop's thread that renders it when scraped. Kept apart from `NodeDaemon.run`, like
/// `NodeControl`, so start-up reads as before plus one call.
public enum NodeMetrics {
    /// Opens the endpoint at `address` (nil: no endpoint, nothing recorded) and hooks the
    /// metrics into `loop.core`. The caller closes the returned server when the loop ends.
    public static func attach(to loop: IKEEventLoop, plan: NodePlan, dataplane: any DataplaneBackend,
                              address: MetricsAddress?, clock: any MonotonicClock,
                              logger: Logger, applier: PlanApplier? = nil, version: String = "unknown",
                              expiry: CredentialExpiryMonitor? = nil) throws(DaemonError) -> MetricsServer? {
        guard let address else { return nil }
        let core = loop.core
        let metrics = DaemonMetrics(plan: plan, peers: core.peers, dataplane: dataplane.name, startedAt: clock.now(),
                                    version: version)
        let server = try MetricsServer(address: address) { now in
            if let expiry { metrics.update(expiring: expiry.items()) }
            return metrics.render(now: now, daemon: core.counters) { dataplane.counters(inboundSPI: $0) }
        }
        if let applier {
            let previous = applier.onApplied
            applier.onApplied = { plan, diff in
                previous?(plan, diff)
                metrics.update(plan: plan, peers: core.peers, fresh: Set(diff.tunnelIDs(.reestablish)))
            }
        }
        let previousEvent = core.onEvent
        core.onEvent = { tunnel, event in
            previousEvent?(tunnel, event)
            metrics.record(tunnel: tunnel, event: event, now: clock.now())
        }
        let previousInitiate = core.onInitiate
        core.onInitiate = { tunnel, now in
            previousInitiate?(tunnel, now)
            metrics.initiated(tunnel: tunnel, now: now)
        }
        loop.sources.append(server)
        logger.info("metrics endpoint listening", metadata: ["address": "\(address)", "path": "/metrics"])
        return server
    }
}
