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
        let desiredNames = Set(desired.links.map(\.name))
        let owned = observed.links.filter { Ownership.owns($0, desiredNames: desiredNames) }
        let byIndex = Dictionary(observed.links.map { ($0.index, $0.link.name) }, uniquingKeysWith: { a, _ in a })
        let ownedByName = Dictionary(owned.map { ($0.link.name, $0) }, uniquingKeysWith: { a, _ in a })

        var removals: [KernelChange] = []
        var linkRemovals: [KernelChange] = []

        // Interfaces: keep when kind matches (MTU and state are adjusted in place), replace when
        // the kind or its key changed, delete when no longer wanted.
        var recreated = Set<String>()
        for l in owned where !desiredNames.contains(l.link.name) {
            linkRemovals.append(.deleteLink(name: l.link.name))
        }
        var created: [KernelChange] = [], mtus: [KernelChange] = [], states: [KernelChange] = []
        for d in desired.links {
            if let o = ownedByName[d.name] {
                if !sameKind(o.link.kind, d.kind) {
                    linkRemovals.append(.deleteLink(name: d.name))
                    created.append(.createLink(d))
                    recreated.insert(d.name)
                    states.append(.setUp(interface: d.name, up: d.up))
                    continue
                }
                if o.link.mtu != d.mtu { mtus.append(.setMTU(interface: d.name, mtu: d.mtu)) }
                let isUp = o.flags & ObservedKernelState.interfaceUp != 0
                if isUp != d.up { states.append(.setUp(interface: d.name, up: d.up)) }
            } else {
                created.append(.createLink(d))
                recreated.insert(d.name)
                if d.up { states.append(.setUp(interface: d.name, up: true)) }
            }
        }

        // Objects on an interface being deleted or re-created go with it: the kernel removes them.
        var vanishing = recreated.intersection(ownedByName.keys)
        for case .deleteLink(let name) in linkRemovals { vanishing.insert(name) }

        // Addresses on owned interfaces that survive.
        let wantedAddresses = Set(desired.addresses)
        var haveAddresses = Set<DesiredAddress>()
        for a in observed.addresses {
            guard let name = byIndex[a.interfaceIndex], ownedByName[name] != nil, !vanishing.contains(name),
                  !Ownership.isKernelGenerated(a.address) else { continue }
            let key = DesiredAddress(interface: name, address: a.address, prefixLength: a.prefixLength)
            if wantedAddresses.contains(key) {
                haveAddresses.insert(key)
            } else {
                removals.append(.deleteAddress(interface: name, address: a.address, prefixLength: a.prefixLength))
            }
        }
        let addressAdds = desired.addresses.filter { !haveAddresses.contains($0) }.map(KernelChange.addAddress)

        // Routes with Viaduct's protocol number, wherever they point.
        let wantedRoutes = Set(desired.routes)
        var haveRoutes = Set<DesiredRoute>()
        for r in observed.routes where Ownership.owns(r) {
            let name = byIndex[r.outputInterface] ?? "#\(r.outputInterface)"
            if vanishing.contains(name) { continue }
            let key = DesiredRoute(destination: r.destination, interface: name)
            if wantedRoutes.contains(key) {
                haveRoutes.insert(key)
            } else {
                removals.append(.deleteRoute(destination: r.destination, interface: name))
            }
        }
        let routeAdds = desired.routes.filter { !haveRoutes.contains($0) }.map(KernelChange.addRoute)

        // Policies: compared without the kernel-assigned index and lifetime counters.
        let wantedPolicies = Set(desired.policies.map(PolicyKey.init))
        var havePolicies = Set<PolicyKey>()
        for p in observed.policies where Ownership.owns(p) {
            let key = PolicyKey(p)
            if wantedPolicies.contains(key) {
                havePolicies.insert(key)
            } else {
                removals.append(.deletePolicy(p))
            }
        }
        let policyAdds = desired.policies.filter { !havePolicies.contains(PolicyKey($0)) }.map(KernelChange.addPolicy)

        return order(removals) + linkRemovals + created + mtus + addressAdds + states + routeAdds + policyAdds
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

/// The parts of a policy that are configuration (not the kernel's index or usage counters).
struct PolicyKey: Hashable {
    var selector: XfrmSelector
    var direction: XfrmDirection
    var action: XfrmPolicyAction
    var priority: UInt32
    var templates: [XfrmTemplate]
    var interfaceID: UInt32?
    var mark: XfrmMark?

    init(_ p: XfrmPolicy) {
        selector = p.selector
        direction = p.direction
        action = p.action
        priority = p.priority
        templates = p.templates
        interfaceID = p.interfaceID
        mark = p.mark
    }
}
