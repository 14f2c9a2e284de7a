import KernelModel
import Topology

/// Desired state vs. the kernel's, as an ordered list of changes (DESIGN.md "Reconciler").
///
/// Properties the tests hold it to: it only touches objects `Ownership` accepts; applying its
/// changes and planning again yields nothing (idempotent); an interface whose configuration did
/// not change is never deleted or re-created, so its tunnel's traffic is not disturbed.
///
/// Order: withdraw what is no longer wanted (routes, addresses, policies, then interfaces), then
/// build what is (interfaces, MTU, addresses, link state, routes, policies). Routes come after
/// `up` because the kernel refuses an IPv4 route through a down interface.
public enum Reconciler {
    public static func plan(desired: DesiredKernelState, observed: ObservedKernelState) -> [KernelChange] {
        plan(desired: desired, observed: KernelStateCache(observed))
    }

    /// The same plan against the indexed state (a fresh observation, or the executor's cache).
    /// Linear in the size of both states with one small-key hash lookup per desired object, and
    /// the reverse pass (what is there but not wanted) only when counts say something is extra:
    /// a one-peer change on a 1,000-peer node costs reading the desired state once. The counts
    /// assume the desired objects are distinct, as `DesiredKernelState(plan:)` makes them (a
    /// duplicate would also be planned, and fail, as two additions).
    public static func plan(desired: DesiredKernelState, observed: KernelStateCache) -> [KernelChange] {
        let desiredNames = Set(desired.links.map(\.name))
        var ownedByName: [String: Int32] = [:]
        ownedByName.reserveCapacity(observed.links.count)
        var ownedIndexes: [Int32] = []
        for l in observed.links.values where Ownership.owns(l, desiredNames: desiredNames) {
            ownedByName[l.link.name] = l.index
            ownedIndexes.append(l.index)
        }
        ownedIndexes.sort()

        var removals: [KernelChange] = []
        var linkRemovals: [KernelChange] = []

        // Interfaces: keep when kind matches (MTU and state are adjusted in place), replace when
        // the kind or its key changed, delete when no longer wanted.
        var vanishing = Set<Int32>()
        for i in ownedIndexes {
            guard let l = observed.links[i], !desiredNames.contains(l.link.name) else { continue }
            linkRemovals.append(.deleteLink(name: l.link.name))
            vanishing.insert(i)
        }
        var created: [KernelChange] = [], mtus: [KernelChange] = [], states: [KernelChange] = []
        for d in desired.links {
            if let i = ownedByName[d.name], let o = observed.links[i] {
                if !sameKind(o.link.kind, d.kind) {
                    linkRemovals.append(.deleteLink(name: d.name))
                    vanishing.insert(i)
                    created.append(.createLink(d))
                    states.append(.setUp(interface: d.name, up: d.up))
                    continue
                }
                if o.link.mtu != d.mtu { mtus.append(.setMTU(interface: d.name, mtu: d.mtu)) }
                let isUp = o.flags & ObservedKernelState.interfaceUp != 0
                if isUp != d.up { states.append(.setUp(interface: d.name, up: d.up)) }
            } else {
                created.append(.createLink(d))
                if d.up { states.append(.setUp(interface: d.name, up: true)) }
            }
        }
        // Objects on an interface being deleted or re-created go with it: the kernel removes them.
        // An interface that does not exist yet has none.
        func surviving(_ name: String) -> Int32? {
            guard let i = ownedByName[name], !vanishing.contains(i) else { return nil }
            return i
        }

        // Addresses on owned interfaces that survive.
        var addressAdds: [KernelChange] = []
        var matchedAddresses = 0
        for a in desired.addresses {
            if let i = surviving(a.interface),
               observed.addresses[i]?.contains(CachedAddress(interfaceIndex: i, address: a.address, prefixLength: a.prefixLength)) == true {
                matchedAddresses += 1
            } else {
                addressAdds.append(.addAddress(a))
            }
        }
        var present = 0
        for i in ownedIndexes where !vanishing.contains(i) { present += observed.addresses[i]?.count ?? 0 }
        // Deleting the last IPv4 address of an interface makes the kernel flush its IPv4 routes
        // (fib_disable_ip): those count as gone, and are re-added after the new address.
        var losesIPv4 = Set<Int32>()
        if present != matchedAddresses {
            let wanted = Set(desired.addresses)
            for i in ownedIndexes where !vanishing.contains(i) {
                guard let l = observed.links[i], let have = observed.addresses[i] else { continue }
                var extra: [(String, CachedAddress)] = []
                for a in have where !wanted.contains(DesiredAddress(interface: l.link.name, address: a.address, prefixLength: a.prefixLength)) {
                    extra.append(((a.address.family == .ipv4 ? "4 " : "6 ") + a.address.description, a))
                }
                guard !extra.isEmpty else { continue }
                extra.sort { $0.0 < $1.0 }
                removals += extra.map { .deleteAddress(interface: l.link.name, address: $0.1.address, prefixLength: $0.1.prefixLength) }
                let ipv4 = have.filter { $0.address.family == .ipv4 }.count
                if ipv4 > 0, extra.filter({ $0.1.address.family == .ipv4 }).count == ipv4 { losesIPv4.insert(i) }
            }
        }

        // Routes with Viaduct's protocol number (main table), wherever they point.
        var routeAdds: [KernelChange] = []
        var matchedRoutes = 0
        for r in desired.routes {
            if let i = surviving(r.interface), !(r.destination.family == .ipv4 && losesIPv4.contains(i)),
               observed.routes.contains(CachedRoute(destination: r.destination, outputInterface: i, table: Route.mainTable)) {
                matchedRoutes += 1
            } else {
                routeAdds.append(.addRoute(r))
            }
        }
        var onVanishing = 0
        if !vanishing.isEmpty { for r in observed.routes where vanishing.contains(r.outputInterface) { onVanishing += 1 } }
        if matchedRoutes + onVanishing != observed.routes.count {
            let wanted = Set(desired.routes)
            var extra: [(String, KernelChange)] = []
            for r in observed.routes where !vanishing.contains(r.outputInterface) {
                let name = observed.links[r.outputInterface]?.link.name ?? "#\(r.outputInterface)"
                // Wanted (or wanted and about to be flushed by the kernel, then re-added): kept.
                if wanted.contains(DesiredRoute(destination: r.destination, interface: name)) { continue }
                extra.append(("\(r.destination) \(name) \(r.table)", .deleteRoute(destination: r.destination, interface: name)))
            }
            extra.sort { $0.0 < $1.0 }
            removals += extra.map(\.1)
        }

        // Policies, by the interface they are bound to, compared without the kernel's index and
        // counters.
        var policyAdds: [KernelChange] = []
        var matchedPolicies = 0
        for p in desired.policies {
            if observed.policies[PolicyBinding(p)]?.contains(where: { samePolicy($0, p) }) == true {
                matchedPolicies += 1
            } else {
                policyAdds.append(.addPolicy(p))
            }
        }
        if matchedPolicies != observed.policyCount {
            // Usually whole tunnels are gone: their bindings are not wanted at all. Only when that
            // does not account for every extra policy are the wanted bindings compared one by one.
            var bindings = Set<PolicyBinding>()
            bindings.reserveCapacity(desired.links.count)
            for p in desired.policies { bindings.insert(PolicyBinding(p)) }
            var extra: [(String, XfrmPolicy)] = []
            for (binding, have) in observed.policies where !bindings.contains(binding) {
                extra += have.map { ($0.description, $0) }
            }
            if matchedPolicies + extra.count != observed.policyCount {
                let wanted = Dictionary(grouping: desired.policies, by: PolicyBinding.init)
                for (binding, have) in observed.policies {
                    guard let group = wanted[binding] else { continue }
                    for h in have where !group.contains(where: { samePolicy($0, h) }) { extra.append((h.description, h)) }
                }
            }
            extra.sort { $0.0 < $1.0 }
            removals += extra.map { .deletePolicy($0.1) }
        }

        return order(removals) + linkRemovals + created + mtus + addressAdds + states + routeAdds + policyAdds
    }

    /// The parts of a policy that are configuration (not the kernel's index or usage counters).
    static func samePolicy(_ a: XfrmPolicy, _ b: XfrmPolicy) -> Bool {
        a.direction == b.direction && a.selector == b.selector && a.interfaceID == b.interfaceID && a.mark == b.mark
            && a.action == b.action && a.priority == b.priority && a.templates == b.templates
    }

    /// Routes before addresses before policies, each group in a stable order.
    static func order(_ removals: [KernelChange]) -> [KernelChange] {
        func rank(_ c: KernelChange) -> Int {
            switch c {
            case .deleteRoute: 0
            case .deleteAddress: 1
            case .deletePolicy: 2
            default: 3
            }
        }
        return removals.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// An xfrm interface's underlying device is not part of Viaduct's configuration; kind, `if_id`
    /// (or VTI keys and endpoints) are, and cannot change in place.
    static func sameKind(_ a: LinkKind, _ b: LinkKind) -> Bool {
        switch (a, b) {
        case (.xfrm(let x, _), .xfrm(let y, _)): x == y
        case (.vti(let ik1, let ok1, let l1, let r1), .vti(let ik2, let ok2, let l2, let r2)):
            ik1 == ik2 && ok1 == ok2 && l1 == l2 && r1 == r2
        case (.tun, .tun): true
        default: false
        }
    }
}

/// What ties a policy to its tunnel: the xfrm interface's `if_id` or the VTI's mark. A tunnel
/// has a handful of policies (out/in/fwd per family), so grouping by it keeps lookups on a
/// small key.
struct PolicyBinding: Hashable {
    var interfaceID: UInt32?
    var mark: XfrmMark?

    init(_ p: XfrmPolicy) {
        interfaceID = p.interfaceID
        mark = p.mark
    }
}
