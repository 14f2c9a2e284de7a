import KernelModel
import NetTypes
import Topology

/// The part of the kernel the reconciler reads, indexed, and kept up to date from the changes
/// the executor applied, so that a one-peer change is planned against it instead of against a
/// fresh dump of every link, address, route and policy (docs/netlink.md, "Incremental
/// reconciliation").
///
/// It holds only what `Reconciler.plan` looks at: every link (by index and name; of the flags
/// only IFF_UP, since carrier and operstate change on their own), the addresses on them (not
/// the IPv6 link-local ones the kernel makes), and the routes and policies Viaduct owns. Built
/// from a dump, it equals, field for field, the cache a run of recorded changes led to when the
/// kernel did what they asked: that is what the host-kernel tests compare.
///
/// `record` follows the kernel's side effects it can predict (deleting an interface takes its
/// addresses and routes; taking it down, its routes; deleting its last IPv4 address, its IPv4
/// routes) and returns false for those it cannot (taking an interface down drops its IPv6
/// addresses unless `keep_addr_on_down`; an MTU below 1280 turns IPv6 off; deleting a primary
/// IPv4 address may take its secondaries): the executor then throws the cache away and
/// observes the kernel again next time.
public struct KernelStateCache: Equatable, Sendable {
    public private(set) var links: [Int32: ObservedLink] = [:]
    public private(set) var indexByName: [String: Int32] = [:]
    /// By interface index.
    public private(set) var addresses: [Int32: Set<CachedAddress>] = [:]
    /// Routes with Viaduct's protocol number.
    public private(set) var routes: Set<CachedRoute> = []
    /// Policies Viaduct owns, by the interface they are bound to (the kernel's index left out).
    private(set) var policies: [PolicyBinding: [XfrmPolicy]] = [:]
    public private(set) var policyCount = 0

    public init() {}

    public init(_ observed: ObservedKernelState) {
        for l in observed.links { insert(l) }
        for a in observed.addresses where links[a.interfaceIndex] != nil && !Ownership.isKernelGenerated(a.address) {
            addresses[a.interfaceIndex, default: []].insert(CachedAddress(a))
        }
        for r in observed.routes where Ownership.owns(r) { routes.insert(CachedRoute(r)) }
        for p in observed.policies where Ownership.owns(p) { insertPolicy(p) }
    }

    /// The owned policies, in a stable order.
    public var ownedPolicies: [XfrmPolicy] {
        policies.values.joined().sorted { $0.description < $1.description }
    }

    private mutating func insertPolicy(_ p: XfrmPolicy) {
        var p = p
        p.index = 0
        policies[PolicyBinding(p), default: []].append(p)
        policyCount += 1
    }

    /// The kernel's key for a policy: selector, direction and binding (`xfrm_policy_bysel_ctx`).
    private mutating func removePolicy(_ p: XfrmPolicy) {
        let binding = PolicyBinding(p)
        guard let k = policies[binding]?.firstIndex(where: { $0.selector == p.selector && $0.direction == p.direction }) else { return }
        policies[binding]?.remove(at: k)
        if policies[binding]?.isEmpty == true { policies[binding] = nil }
        policyCount -= 1
    }

    /// Adds or replaces a link (one the executor created, or found by name).
    public mutating func insert(_ link: ObservedLink) {
        if let old = indexByName[link.link.name], old != link.index { removeLink(index: old) }
        if let previous = links[link.index], previous.link.name != link.link.name { indexByName[previous.link.name] = nil }
        var l = link
        l.flags &= ObservedKernelState.interfaceUp
        l.link.up = l.flags != 0
        links[l.index] = l
        indexByName[l.link.name] = l.index
    }

    /// Forgets a link and what the kernel removes with it: its addresses and the routes through it.
    public mutating func removeLink(index: Int32) {
        guard let l = links.removeValue(forKey: index) else { return }
        if indexByName[l.link.name] == index { indexByName[l.link.name] = nil }
        addresses[index] = nil
        routes = routes.filter { $0.outputInterface != index }
    }

    /// Applies a change the kernel accepted. `.createLink` is not recorded here: its index is the
    /// kernel's to choose, and the executor inserts the link it reads back. Returns false when the
    /// kernel's side effects cannot be predicted (see the type's comment).
    @discardableResult
    public mutating func record(_ change: KernelChange) -> Bool {
        switch change {
        case .createLink:
            return false
        case .deleteLink(let name):
            if let i = indexByName[name] { removeLink(index: i) }
        case .setMTU(let name, let mtu):
            guard let i = indexByName[name] else { return false }
            links[i]?.link.mtu = mtu
            if mtu < 1280, addresses[i]?.contains(where: { $0.address.family == .ipv6 }) == true { return false }
        case .setUp(let name, let up):
            guard let i = indexByName[name] else { return false }
            links[i]?.link.up = up
            links[i]?.flags = up ? ObservedKernelState.interfaceUp : 0
            if !up {
                routes = routes.filter { $0.outputInterface != i }
                if addresses[i]?.contains(where: { $0.address.family == .ipv6 }) == true { return false }
            }
        case .addAddress(let a):
            guard let i = indexByName[a.interface] else { return false }
            addresses[i, default: []].insert(CachedAddress(interfaceIndex: i, address: a.address, prefixLength: a.prefixLength))
        case .deleteAddress(let name, let address, let length):
            guard let i = indexByName[name] else { return false }
            addresses[i]?.remove(CachedAddress(interfaceIndex: i, address: address, prefixLength: length))
            if case .v4 = address {
                let rest = addresses[i]?.filter { $0.address.family == .ipv4 } ?? []
                // The last one: the kernel flushes the interface's IPv4 routes (fib_disable_ip).
                if rest.isEmpty { routes = routes.filter { $0.outputInterface != i || $0.destination.family != .ipv4 } }
                // A primary with secondaries in its subnet may take them along.
                if rest.contains(where: { Self.sameSubnet($0.address, address, length) }) { return false }
            }
        case .addRoute(let r):
            guard let i = indexByName[r.interface] else { return false }
            routes.insert(CachedRoute(destination: r.destination, outputInterface: i, table: Route.mainTable))
        case .deleteRoute(let destination, let name):
            guard let i = indexByName[name] ?? (name.hasPrefix("#") ? Int32(name.dropFirst()) : nil) else { return false }
            routes.remove(CachedRoute(destination: destination, outputInterface: i, table: Route.mainTable))
        case .addPolicy(let p):
            insertPolicy(p)
        case .deletePolicy(let p):
            removePolicy(p)
        }
        return true
    }

    static func sameSubnet(_ a: IPAddress, _ b: IPAddress, _ length: UInt8) -> Bool {
        guard case .v4(let x) = a, case .v4(let y) = b, length <= 32 else { return false }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length))
        return x & mask == y & mask
    }

    public static func == (a: KernelStateCache, b: KernelStateCache) -> Bool {
        a.links == b.links && a.indexByName == b.indexByName && a.addresses.filter { !$0.value.isEmpty } == b.addresses.filter { !$0.value.isEmpty }
            && a.routes == b.routes && a.policyCount == b.policyCount
            && a.policies.allSatisfy { binding, have in
                let other = b.policies[binding] ?? []
                return have.count == other.count && have.allSatisfy { p in other.contains { Reconciler.samePolicy($0, p) } }
            }
    }
}

/// An address as the reconciler compares it: interface, address and prefix length.
public struct CachedAddress: Hashable, Sendable {
    public var interfaceIndex: Int32
    public var address: IPAddress
    public var prefixLength: UInt8

    public init(interfaceIndex: Int32, address: IPAddress, prefixLength: UInt8) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.prefixLength = prefixLength
    }

    init(_ a: LinkAddress) {
        self.init(interfaceIndex: a.interfaceIndex, address: a.address, prefixLength: a.prefixLength)
    }
}

/// A route Viaduct owns as the reconciler compares it: destination, interface and table.
public struct CachedRoute: Hashable, Sendable {
    public var destination: IPPrefix
    public var outputInterface: Int32
    public var table: UInt32

    public init(destination: IPPrefix, outputInterface: Int32, table: UInt32) {
        self.destination = destination
        self.outputInterface = outputInterface
        self.table = table
    }

    init(_ r: Route) {
        self.init(destination: r.destination, outputInterface: r.outputInterface, table: r.table)
    }
}
