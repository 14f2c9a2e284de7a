import KernelModel
import Reconciler
import Topology

/// A kernel in miniature, with the rules the reconciler must respect: names are unique, an
/// IPv4/IPv6 route needs its interface up, deleting an interface takes its addresses and routes,
/// taking it down withdraws its routes, deleting its last IPv4 address flushes its IPv4 routes,
/// duplicates fail with EEXIST and missing objects ENOENT.
struct KernelSimulator {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var state: ObservedKernelState
    var nextIndex: Int32 = 100
    var nextPolicyIndex: UInt32 = 8
    /// Every change applied, for assertions about disruption.
    var log: [KernelChange] = []

    init(_ state: ObservedKernelState = ObservedKernelState()) {
        self.state = state
    }

    func index(of name: String) throws -> Int32 {
        guard let l = state.links.first(where: { $0.link.name == name }) else { throw Failure(description: "ENODEV \(name)") }
        return l.index
    }

    mutating func apply(_ changes: [KernelChange]) throws {
        for c in changes {
            try apply(c)
            log.append(c)
        }
    }

    mutating func apply(_ change: KernelChange) throws {
        switch change {
        case .createLink(let d):
            guard !state.links.contains(where: { $0.link.name == d.name }) else { throw Failure(description: "EEXIST link \(d.name)") }
            state.links.append(ObservedLink(index: nextIndex, link: Link(name: d.name, kind: d.kind, mtu: d.mtu, up: false), flags: 0))
            nextIndex += 1
        case .deleteLink(let name):
            let i = try index(of: name)
            state.links.removeAll { $0.index == i }
            state.addresses.removeAll { $0.interfaceIndex == i }
            state.routes.removeAll { $0.outputInterface == i }
        case .setMTU(let name, let mtu):
            let i = try index(of: name)
            for k in state.links.indices where state.links[k].index == i { state.links[k].link.mtu = mtu }
        case .setUp(let name, let up):
            let i = try index(of: name)
            for k in state.links.indices where state.links[k].index == i {
                state.links[k].flags = up ? state.links[k].flags | 1 : state.links[k].flags & ~1
            }
            if !up { state.routes.removeAll { $0.outputInterface == i } }
        case .addAddress(let a):
            let i = try index(of: a.interface)
            guard !state.addresses.contains(where: { $0.interfaceIndex == i && $0.address == a.address }) else {
                throw Failure(description: "EEXIST address \(a.address)")
            }
            state.addresses.append(LinkAddress(address: a.address, prefixLength: a.prefixLength, interfaceIndex: i))
        case .deleteAddress(let name, let address, _):
            let i = try index(of: name)
            let before = state.addresses.count
            state.addresses.removeAll { $0.interfaceIndex == i && $0.address == address }
            if before == state.addresses.count { throw Failure(description: "EADDRNOTAVAIL \(address)") }
            // The last IPv4 address gone: the kernel flushes the interface's IPv4 routes.
            if address.family == .ipv4, !state.addresses.contains(where: { $0.interfaceIndex == i && $0.address.family == .ipv4 }) {
                state.routes.removeAll { $0.outputInterface == i && $0.destination.family == .ipv4 }
            }
        case .addRoute(let r):
            let i = try index(of: r.interface)
            guard let l = state.links.first(where: { $0.index == i }), l.flags & 1 != 0 else {
                throw Failure(description: "ENETDOWN route \(r.destination) via down \(r.interface)")
            }
            guard !state.routes.contains(where: { $0.destination == r.destination && $0.table == 254 }) else {
                throw Failure(description: "EEXIST route \(r.destination)")
            }
            state.routes.append(Route(destination: r.destination, outputInterface: i, protocolNumber: RouteProtocol.viaduct, table: 254))
        case .deleteRoute(let dst, let name):
            let i = (try? index(of: name)) ?? Int32(name.dropFirst()) ?? -1
            let before = state.routes.count
            state.routes.removeAll { $0.destination == dst && $0.outputInterface == i }
            if before == state.routes.count { throw Failure(description: "ESRCH route \(dst)") }
        case .addPolicy(var p):
            guard !state.policies.contains(where: { $0.selector == p.selector && $0.direction == p.direction
                && $0.interfaceID == p.interfaceID && $0.mark == p.mark }) else { throw Failure(description: "EEXIST \(p)") }
            p.index = nextPolicyIndex
            nextPolicyIndex += 8
            state.policies.append(p)
        case .deletePolicy(let p):
            let before = state.policies.count
            state.policies.removeAll { $0.selector == p.selector && $0.direction == p.direction
                && $0.interfaceID == p.interfaceID && $0.mark == p.mark }
            if before == state.policies.count { throw Failure(description: "ENOENT \(p)") }
        }
    }
}
