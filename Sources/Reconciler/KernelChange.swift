import KernelModel
import NetTypes
import Topology

/// One step of a reconciliation, by interface name. The shell turns each into netlink requests
/// (resolving names to the kernel's indexes) and sends them as a batch; `description` is what
/// `viaduct plan` prints against a live kernel.
public enum KernelChange: Hashable, Sendable, CustomStringConvertible {
    case createLink(DesiredLink)
    /// Interfaces cannot change kind or `if_id` in place: those are delete + create.
    case deleteLink(name: String)
    case setMTU(interface: String, mtu: UInt32)
    case setUp(interface: String, up: Bool)
    case addAddress(DesiredAddress)
    case deleteAddress(interface: String, address: IPAddress, prefixLength: UInt8)
    case addRoute(DesiredRoute)
    case deleteRoute(destination: IPPrefix, interface: String)
    case addPolicy(XfrmPolicy)
    case deletePolicy(XfrmPolicy)

    public var description: String {
        switch self {
        case .createLink(let l): "+ link \(l.name) \(Self.describe(l.kind)) mtu \(l.mtu)"
        case .deleteLink(let name): "- link \(name)"
        case .setMTU(let name, let mtu): "~ link \(name) mtu \(mtu)"
        case .setUp(let name, let up): "~ link \(name) \(up ? "up" : "down")"
        case .addAddress(let a): "+ address \(a.address)/\(a.prefixLength) dev \(a.interface)"
        case .deleteAddress(let name, let a, let len): "- address \(a)/\(len) dev \(name)"
        case .addRoute(let r): "+ route \(r.destination) dev \(r.interface) proto viaduct"
        case .deleteRoute(let dst, let name): "- route \(dst) dev \(name) proto viaduct"
        case .addPolicy(let p): "+ \(p)"
        case .deletePolicy(let p): "- \(p)"
        }
    }

    static func describe(_ kind: LinkKind) -> String {
        switch kind {
        case .xfrm(let id, _): "type xfrm if_id \(id)"
        case .vti(let ikey, let okey, let local, let remote): "type vti ikey \(ikey) okey \(okey) local \(local) remote \(remote)"
        case .tun: "type tun"
        case .other(let name): "type \(name)"
        }
    }
}
