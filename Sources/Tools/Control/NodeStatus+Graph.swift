import Daemon
import Topology

extension NodeStatus {
    /// This daemon's tunnels as `viaduct graph` draws them: established with a Child SA is
    /// established; an IKE SA without a Child SA is still connecting (no traffic yet).
    public var graphReports: [TopologyGraph.TunnelReport] {
        tunnels.map { t in
            let state: TopologyGraph.TunnelReport.State
            switch t.state {
            case .established: state = t.carriesTraffic ? .established : .connecting
            case .connecting: state = .connecting
            case .down: state = .down
            }
            let reason = state == .established ? nil
                : t.reason ?? t.lastError?.message ?? (t.state == .established ? "IKE SA up, no Child SA" : nil)
            return TopologyGraph.TunnelReport(node: node, peer: t.peer, state: state, reason: reason)
        }
    }
}
