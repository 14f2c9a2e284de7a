import KernelModel
import NetTypes
import Topology

/// How Viaduct recognises what it owns in a kernel it shares with everything else on the box.
/// The reconciler only ever changes or deletes objects these predicates accept; everything else
/// (other VPNs, BGP routes, static routes, the operator's interfaces) is invisible to it.
public enum Ownership {
    /// Routes: marked with Viaduct's `rtm_protocol`.
    public static let routeProtocol = RouteProtocol.viaduct

    /// Policies: Viaduct's route-based policies carry this priority (one below strongSwan's
    /// 399999 for the same shape, so a coexisting charon's policies are never taken for ours)
    /// and are bound to an interface (`if_id`) or a VTI mark.
    public static let policyPriority: UInt32 = 399_998

    /// Interfaces: the ones the plan names, plus any tunnel-kind interface with Viaduct's name
    /// prefix (a tunnel removed from the topology leaves one of those behind).
    public static func owns(_ link: ObservedLink, desiredNames: Set<String>) -> Bool {
        if desiredNames.contains(link.link.name) { return true }
        guard link.link.name.hasPrefix(InterfaceNaming.prefix) else { return false }
        switch link.link.kind {
        case .xfrm, .vti, .tun: return true
        case .other: return false
        }
    }

    public static func owns(_ route: Route) -> Bool {
        route.protocolNumber == routeProtocol
    }

    public static func owns(_ policy: XfrmPolicy) -> Bool {
        policy.priority == policyPriority && (policy.interfaceID != nil || policy.mark != nil)
    }

    /// Addresses on owned links are Viaduct's, except the IPv6 link-local addresses the kernel
    /// generates by itself.
    public static func isKernelGenerated(_ address: IPAddress) -> Bool {
        if case .v6(let hi, _) = address { return hi >> 54 == 0x3fa }   // fe80::/10
        return false
    }
}
