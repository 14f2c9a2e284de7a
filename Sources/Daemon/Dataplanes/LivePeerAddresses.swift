import NetTypes
import Topology

/// Where the peers whose address the plan does not fix (`address: dynamic`, a DNS name) are now,
/// from their latest Child SA: the kernel's outbound XFRM policy template (and a VTI's remote)
/// must name it. A named peer that resolved elsewhere at re-initiation moves its policies with
/// its new Child SA, as an apply would, not at the next apply.
struct LivePeerAddresses: Equatable {
    private(set) var byPeer: [String: IPAddress] = [:]

    /// A Child SA of `peer` was installed with the peer at `address`: true when the kernel's
    /// policies must follow (a peer the plan leaves open, at a new place).
    mutating func childSAInstalled(peer: String, at address: IPAddress, plan: NodePlan) -> Bool {
        guard plan.tunnels.contains(where: { $0.peer == peer && $0.ike.peerUnderlay != .fixed }),
              byPeer[peer] != address else { return false }
        byPeer[peer] = address
        return true
    }

    /// `plan` with the live address of each peer it leaves open (or names), for the reconciler.
    func applied(to plan: NodePlan) -> NodePlan {
        var p = plan
        for i in p.tunnels.indices where p.tunnels[i].ike.peerUnderlay != .fixed {
            if let at = byPeer[p.tunnels[i].peer], at.family == p.tunnels[i].ike.peerAddress.family {
                p.tunnels[i].ike.peerAddress = at
            }
        }
        return p
    }
}
