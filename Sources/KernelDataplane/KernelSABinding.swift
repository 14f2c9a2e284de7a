import KernelModel
import Topology

/// What ties a peer's kernel SAs to its tunnel interface. Route-based tunnels let routing pick
/// the interface; the interface's `if_id` (xfrm) or key (VTI) then picks the policy, and the
/// policy's template (reqid = that same number) picks the SA. So one number per peer is all the
/// SAs need to know, and it also serves as their reqid.
public struct KernelSABinding: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// XFRM interface: SAs and policies carry `if_id`.
        case xfrm
        /// VTI: SAs and policies carry `mark ID/0xffffffff` (the VTI's ikey/okey).
        case vti
    }

    public var kind: Kind
    /// The interface's `if_id`, or the VTI's key.
    public var interfaceID: UInt32

    public init(kind: Kind, interfaceID: UInt32) {
        self.kind = kind
        self.interfaceID = interfaceID
    }

    /// The bindings of every tunnel of a node plan, by peer name (the daemon's `peer=`).
    public static func bindings(plan: NodePlan) -> [String: KernelSABinding] {
        var out: [String: KernelSABinding] = [:]
        for t in plan.tunnels {
            let kind: Kind = t.interface.kind == .vti ? .vti : .xfrm
            out[t.peer] = KernelSABinding(kind: kind, interfaceID: t.interface.ifID)
        }
        return out
    }

    /// `if_id` for xfrm interfaces, nil for VTIs.
    public var stateInterfaceID: UInt32? { kind == .xfrm ? interfaceID : nil }

    /// The full mark for VTIs, nil for xfrm interfaces.
    public var stateMark: XfrmMark? { kind == .vti ? XfrmMark(value: interfaceID, mask: 0xffff_ffff) : nil }

    public var description: String {
        kind == .xfrm ? "if_id \(interfaceID)" : "mark \(interfaceID)"
    }
}
