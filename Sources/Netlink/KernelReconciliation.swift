import KernelModel
import Reconciler
import Topology

/// The reconciler's executor: observes the kernel over netlink, plans with the pure `Reconciler`,
/// and applies the changes in batches. Owns one rtnetlink and one XFRM socket, opened in the
/// network namespace of the thread that creates it.
///
/// Interfaces are created first and the kernel's indexes read back, because addresses and routes
/// name interfaces by index; everything else goes in one batch. Every request in a batch is
/// answered, so a failure names its object and the ones after it are still applied; the first
/// failure is thrown after the whole batch, and reconciling again converges from wherever the
/// kernel is.
public final class KernelReconciliation {
    private let route: NetlinkSocket
    private let xfrm: NetlinkSocket

    public init() throws(NetlinkError) {
        route = try NetlinkSocket(.route)
        xfrm = try NetlinkSocket(.xfrm)
    }

    /// Equivalent to: `ip -d link; ip addr; ip route show table all; ip xfrm policy`.
    public func observe() throws(NetlinkError) -> ObservedKernelState {
        ObservedKernelState(links: try route.links(), addresses: try route.addresses(),
                            routes: try route.routes(), policies: try xfrm.policies())
    }

    /// Observes, plans and applies; returns the changes made (empty when the kernel already matched).
    @discardableResult
    public func reconcile(_ desired: DesiredKernelState) throws(NetlinkError) -> [KernelChange] {
        let observed = try observe()
        let changes = Reconciler.plan(desired: desired, observed: observed)
        try apply(changes, knownLinks: observed.links)
        return changes
    }

    /// `knownLinks`: a link dump taken just before (as `reconcile` has), which spares dumping
    /// them again to map names to indexes.
    public func apply(_ changes: [KernelChange], knownLinks: [ObservedLink]? = nil) throws(NetlinkError) {
        guard !changes.isEmpty else { return }
        var firstError: NetlinkError?
        func note(_ outcomes: [NetlinkOutcome]) {
            if firstError == nil { firstError = outcomes.first { $0.error != nil }?.error }
        }

        // Phase 1: deletions that do not need fresh indexes, then interface deletions and creations.
        var indexes: [String: Int32]
        if let knownLinks { indexes = Self.indexes(knownLinks) } else { indexes = try currentIndexes() }
        var phase1: [NetlinkRequest] = [], phase1Xfrm: [NetlinkRequest] = []
        var rest: [KernelChange] = []
        for c in changes {
            switch c {
            case .deletePolicy(let p):
                phase1Xfrm.append(p.deleteRequest())
            case .deleteRoute, .deleteAddress:
                if let r = try request(c, indexes) { phase1.append(r) }
            case .deleteLink(let name):
                if let i = indexes[name] { phase1.append(Link.deleteRequest(index: i, name: name)) }
            case .createLink(let d):
                if case .tun = d.kind {
                    // TUN devices are made by the userspace data plane through /dev/net/tun.
                    throw NetlinkError(.invalidRequest, context: "configuring \(d.name)",
                                       kernelMessage: "the TUN device does not exist; the userspace data plane creates it")
                }
                do {
                    phase1.append(try Link(name: d.name, kind: d.kind, mtu: d.mtu, up: false).addRequest())
                } catch {
                    throw NetlinkError(.invalidRequest, context: "creating link \(d.name)", kernelMessage: error.description)
                }
            default:
                rest.append(c)
            }
        }
        if !phase1Xfrm.isEmpty { note(try xfrm.send(batch: phase1Xfrm)) }
        if !phase1.isEmpty {
            note(try route.send(batch: phase1))
            indexes = try currentIndexes()
        }
        // Phase 2: MTU, addresses, link state, routes (rtnetlink) and policies (XFRM), each in
        // the planner's order.
        var phase2: [NetlinkRequest] = [], phase2Xfrm: [NetlinkRequest] = []
        for c in rest {
            if case .addPolicy(let p) = c {
                phase2Xfrm.append(p.addRequest())
            } else if let r = try request(c, indexes) {
                phase2.append(r)
            }
        }
        if !phase2.isEmpty { note(try route.send(batch: phase2)) }
        if !phase2Xfrm.isEmpty { note(try xfrm.send(batch: phase2Xfrm)) }
        if let firstError { throw firstError }
    }

    private func currentIndexes() throws(NetlinkError) -> [String: Int32] {
        Self.indexes(try route.links())
    }

    private static func indexes(_ links: [ObservedLink]) -> [String: Int32] {
        Dictionary(links.map { ($0.link.name, $0.index) }, uniquingKeysWith: { a, _ in a })
    }

    private func index(_ name: String, _ indexes: [String: Int32], _ what: String) throws(NetlinkError) -> Int32 {
        if let i = indexes[name] { return i }
        if name.hasPrefix("#"), let i = Int32(name.dropFirst()) { return i }
        throw NetlinkError(.invalidRequest, context: what, kernelMessage: "no interface named \(name)")
    }

    private func request(_ c: KernelChange, _ indexes: [String: Int32]) throws(NetlinkError) -> NetlinkRequest? {
        do {
            switch c {
            case .setMTU(let name, let mtu):
                return Link.setMTURequest(index: try index(name, indexes, "setting the MTU of \(name)"), name: name, mtu: mtu)
            case .setUp(let name, let up):
                return Link.setStateRequest(index: try index(name, indexes, "setting \(name) \(up ? "up" : "down")"), name: name, up: up)
            case .addAddress(let a):
                let i = try index(a.interface, indexes, "adding \(a.address) to \(a.interface)")
                return try LinkAddress(address: a.address, prefixLength: a.prefixLength, interfaceIndex: i,
                                       noDAD: a.address.family == .ipv6).addRequest(interfaceName: a.interface)
            case .deleteAddress(let name, let address, let length):
                guard let i = indexes[name] else { return nil }
                return try LinkAddress(address: address, prefixLength: length, interfaceIndex: i).deleteRequest(interfaceName: name)
            case .addRoute(let r):
                let i = try index(r.interface, indexes, "adding the route \(r.destination) dev \(r.interface)")
                return try Route(destination: r.destination, outputInterface: i, protocolNumber: Ownership.routeProtocol,
                                 table: 254).addRequest(interfaceName: r.interface)
            case .deleteRoute(let destination, let name):
                guard let i = try? index(name, indexes, "") else { return nil }
                return try Route(destination: destination, outputInterface: i, protocolNumber: Ownership.routeProtocol,
                                 table: 254).deleteRequest(interfaceName: name)
            case .createLink, .deleteLink, .addPolicy, .deletePolicy:
                return nil
            }
        } catch let e as NetlinkError {
            throw e
        } catch {
            throw NetlinkError(.invalidRequest, context: c.description, kernelMessage: "\(error)")
        }
    }
}
