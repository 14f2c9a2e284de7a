import KernelModel

/// Which kernel SAs are Viaduct's, for `viaduct down` and for a daemon restarting after a crash.
/// SAs carry no owner mark of their own, so ownership is inherited: an SA is Viaduct's when it is
/// bound (`if_id`, or VTI mark) to something Viaduct owns: one of its tunnel interfaces or one
/// of its route-based policies. Viaduct never installs an unbound SA, so an unbound one is never
/// taken for Viaduct's, even when its reqid happens to equal one of our interface ids (strongSwan
/// numbers its reqids from 1 too). An SA of another IPsec stack matches none of these.
public enum KernelSAOwnership {
    /// The bindings of owned links (xfrm `if_id`, VTI `ikey`/`okey`) and owned policies.
    public static func bindings(ownedLinks: [Link], ownedPolicies: [XfrmPolicy]) -> Set<KernelSABinding> {
        var bindings: Set<KernelSABinding> = []
        for link in ownedLinks {
            switch link.kind {
            case .xfrm(let ifID, _):
                bindings.insert(KernelSABinding(kind: .xfrm, interfaceID: ifID))
            case .vti(let ikey, let okey, _, _):
                bindings.insert(KernelSABinding(kind: .vti, interfaceID: ikey))
                bindings.insert(KernelSABinding(kind: .vti, interfaceID: okey))
            case .tun, .other:
                break
            }
        }
        for policy in ownedPolicies {
            if let ifID = policy.interfaceID { bindings.insert(KernelSABinding(kind: .xfrm, interfaceID: ifID)) }
            if let mark = policy.mark, mark.mask == 0xffff_ffff { bindings.insert(KernelSABinding(kind: .vti, interfaceID: mark.value)) }
        }
        return bindings
    }

    /// The states bound to one of `bindings`.
    public static func states(_ states: [XfrmState], bindings: Set<KernelSABinding>) -> [XfrmState] {
        states.filter { s in
            if let ifID = s.interfaceID { return bindings.contains(KernelSABinding(kind: .xfrm, interfaceID: ifID)) }
            if let mark = s.mark {
                return mark.mask == 0xffff_ffff && bindings.contains(KernelSABinding(kind: .vti, interfaceID: mark.value))
            }
            return false
        }
    }
}
