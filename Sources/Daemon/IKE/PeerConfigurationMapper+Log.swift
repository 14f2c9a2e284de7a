import Logging
import Topology

extension PeerConfigurationMapper {
    /// One warning per tunnel whose ESP proposals hold transforms the chosen data plane cannot
    /// carry: which transforms, which data plane, and whether anything is left to negotiate.
    public static func logUncarried(plan: NodePlan, dataplane: DataplaneKind, logger: Logger) {
        for tunnel in plan.tunnels {
            let esp = espProposals(for: tunnel, dataplane: dataplane)
            guard !esp.dropped.isEmpty else { continue }
            let what = esp.kept.isEmpty
                ? "no ESP proposal is left: the tunnel cannot be negotiated"
                : "left out of the ESP proposals offered and accepted; a peer insisting on them gets NO_PROPOSAL_CHOSEN"
            logger.warning("ESP transforms the data plane cannot carry are \(what)", metadata: [
                "peer": "\(tunnel.peer)", "dataplane": "\(dataplane.rawValue)",
                "reason": "\(esp.dropped.joined(separator: "; "))",
                "offered": "\(esp.kept.map(\.description).joined(separator: ","))",
            ])
        }
    }
}
