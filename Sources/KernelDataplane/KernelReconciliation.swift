import KernelModel
import Reconciler
import Topology

/// The reconciler's executor: observes the kernel over netlink, plans with the pure `Reconciler`,
/// and applies the changes in batches. Owns one rtnetlink and one XFRM socket, opened in the
/// network namespace of the thread that creates it.
///
/// Incremental: after a reconcile whose every change the kernel accepted, it keeps what the
/// kernel then holds (`KernelStateCache`, updated from the applied changes and the indexes the
/// kernel gave the new interfaces), and the next reconcile plans against that instead of dumping
/// every link, address, route and policy again: adding or removing one peer on a 1,000-peer node
/// sends only that peer's changes. The cache is dropped, and the next reconcile observes the
/// kernel in full, after any failed request (then this reconcile is retried once from a fresh
/// observation, which also repairs a cache someone else's change made wrong), after a change
/// whose side effects it cannot predict, after `apply`, on `resync` (the daemon asks for one
/// periodically), and when a link, address or route notification (`KernelChangeMonitor`)
/// contradicts it: someone else changed the kernel. XFRM policies changed by others are only
/// seen by the periodic resync.
///
/// Interfaces are created first and the kernel's indexes read back, because addresses and routes
/// name interfaces by index; everything else goes in one batch. Every request in a batch is
/// answered, so a failure names its object and the ones after it are still applied; the first
/// failure is thrown after the whole batch, and reconciling again converges from wherever the
/// kernel is.
public final class KernelReconciliation {
    private let route: NetlinkSocket
    private let xfrm: NetlinkSocket
    /// What the kernel holds, as of the last reconcile that succeeded; nil: observe first.
    public private(set) var cache: KernelStateCache?
    /// How many full observations (dumps of everything) reconciles made, for tests and benches.
    public private(set) var fullObservations = 0

    private let deletion: DeferredLinkDeletion
    private let monitor: KernelChangeMonitor
    /// The changes the kernel accepted in the current reconcile, for a retry's result.
    private var accepted: [KernelChange] = []
    /// Above this many changes, nobody listens to the notifications they cause.
    static let largeApply = 256
    /// Whether `reconcile` leaves removed interfaces to a thread of their own (see
    /// `DeferredLinkDeletion`): it returns once they are down and their policies gone, without
    /// waiting the kernel's 10 to 30 ms teardown per interface. `viaduct run` does; callers that
    /// look at the kernel themselves right after (`ip link`) call `waitForDeletions` first.
    public let defersInterfaceDeletion: Bool

    public init(defersInterfaceDeletion: Bool = false) throws(NetlinkError) {
        route = try NetlinkSocket(.route)
        xfrm = try NetlinkSocket(.xfrm)
        deletion = try DeferredLinkDeletion()
        monitor = KernelChangeMonitor()
        self.defersInterfaceDeletion = defersInterfaceDeletion
    }

    /// Equivalent to: `ip -d link; ip addr; ip route show table all; ip xfrm policy`. Waits for
    /// interface deletions under way first.
    public func observe() throws(NetlinkError) -> ObservedKernelState {
        try deletion.finish()
        return ObservedKernelState(links: try route.links(), addresses: try route.addresses(),
                                   routes: try route.routes(), policies: try xfrm.policies())
    }

    /// Waits until interface deletions handed to the background are done; throws the first
    /// failure (the cache is dropped then, so the next reconcile looks again).
    public func waitForDeletions() throws(NetlinkError) {
        do { try deletion.finish() } catch {
            cache = nil
            throw error
        }
    }

    /// Forgets the cache: the next reconcile observes the kernel in full and repairs whatever
    /// changed behind Viaduct's back.
    public func resync() {
        cache = nil
    }

    /// Plans against the cache (or a full observation when there is none, or when `resync`) and
    /// applies; returns the changes made (empty when the kernel already matched). When a
    /// reconcile planned against the cache fails, it is retried once from a full observation;
    /// then what the failed attempt changed comes first, followed by the second attempt's plan.
    @discardableResult
    public func reconcile(_ desired: DesiredKernelState, resync: Bool = false) throws(NetlinkError) -> [KernelChange] {
        if resync { cache = nil }
        var deferring = defersInterfaceDeletion
        do { try deletion.finish() } catch {
            // A deletion handed over last time failed: look again, and delete in the foreground
            // this time, so a failure that persists is thrown from here.
            cache = nil
            deferring = false
        }
        if cache != nil {
            accepted = []
            do { return try reconcileOnce(desired, deferring: deferring) } catch {
                cache = nil
            }
            let earlier = accepted
            return earlier + (try reconcileOnce(desired, deferring: deferring))
        }
        return try reconcileOnce(desired, deferring: deferring)
    }

    private func reconcileOnce(_ desired: DesiredKernelState, deferring: Bool) throws(NetlinkError) -> [KernelChange] {
        var state: KernelStateCache
        if let kept = cache, !monitor.sawOutsideChange(to: kept) {
            cache = nil   // dropped unless this reconcile succeeds; also spares copying it
            state = kept
            // Interfaces made outside the reconciler since (the userspace data plane's TUN
            // devices): one lookup by name each, not a dump.
            for d in desired.links where state.indexByName[d.name] == nil {
                if let found = try route.link(named: d.name) { state.insert(found) }
            }
        } else {
            // Listen before dumping, so that what changes after the dump is noticed.
            cache = nil
            monitor.reset()
            state = KernelStateCache(try observe())
            fullObservations += 1
        }
        let changes = Reconciler.plan(desired: desired, observed: state)
        let large = changes.count > Self.largeApply
        if large { monitor.pause() }
        defer { if large { monitor.reset() } }
        let predictable = try apply(changes, to: &state, deferring: deferring)
        if predictable { cache = state }
        return changes
    }

    /// Applies changes planned elsewhere (`viaduct down`). `knownLinks`: a link dump taken just
    /// before, which spares dumping them again to map names to indexes. Drops the cache.
    public func apply(_ changes: [KernelChange], knownLinks: [ObservedLink]? = nil) throws(NetlinkError) {
        cache = nil
        try deletion.finish()
        guard !changes.isEmpty else { return }
        let links: [ObservedLink]
        if let knownLinks { links = knownLinks } else { links = try route.links() }
        var state = KernelStateCache(ObservedKernelState(links: links))
        _ = try apply(changes, to: &state, deferring: false)
    }

    /// Sends `changes` in two phases and records each accepted one in `state`. Throws the first
    /// failure after everything was sent; returns whether `state` is still what the kernel holds.
    /// `deferring`: interfaces deleted and not re-created are set down here and deleted by
    /// `deletion` in the background (recorded as deleted; a failure shows at the next reconcile).
    private func apply(_ changes: [KernelChange], to state: inout KernelStateCache, deferring: Bool) throws(NetlinkError) -> Bool {
        guard !changes.isEmpty else { return true }
        var firstError: NetlinkError?
        var predictable = true
        func send(_ socket: NetlinkSocket, _ batch: [(NetlinkRequest, KernelChange)]) throws(NetlinkError) -> [KernelChange] {
            guard !batch.isEmpty else { return [] }
            var done: [KernelChange] = []
            for (outcome, (_, change)) in zip(try socket.send(batch: batch.map(\.0)), batch) {
                if let error = outcome.error {
                    if firstError == nil { firstError = error }
                } else {
                    done.append(change)
                }
            }
            accepted += done
            return done
        }
        func record(_ accepted: [KernelChange]) {
            for c in accepted where !state.record(c) { predictable = false }
        }

        // Phase 1: deletions that do not need fresh indexes, then interface deletions and creations.
        var phase1: [(NetlinkRequest, KernelChange)] = [], phase1Xfrm: [(NetlinkRequest, KernelChange)] = []
        var rest: [KernelChange] = []
        var background: [NetlinkRequest] = []
        var recreated = Set<String>()
        for case .createLink(let d) in changes { recreated.insert(d.name) }
        for c in changes {
            switch c {
            case .deletePolicy(let p):
                phase1Xfrm.append((p.deleteRequest(), c))
            case .deleteRoute, .deleteAddress:
                if let r = try request(c, state.indexByName) { phase1.append((r, c)) }
            case .deleteLink(let name):
                guard let i = state.indexByName[name] else { continue }
                if deferring && !recreated.contains(name) {
                    phase1.append((Link.setStateRequest(index: i, name: name, up: false), c))
                    background.append(Link.deleteRequest(index: i, name: name))
                } else {
                    phase1.append((Link.deleteRequest(index: i, name: name), c))
                }
            case .createLink(let d):
                if case .tun = d.kind {
                    // TUN devices are made by the userspace data plane through /dev/net/tun.
                    throw NetlinkError(.invalidRequest, context: "configuring \(d.name)",
                                       kernelMessage: "the TUN device does not exist; the userspace data plane creates it")
                }
                do {
                    phase1.append((try Link(name: d.name, kind: d.kind, mtu: d.mtu, up: false).addRequest(), c))
                } catch {
                    throw NetlinkError(.invalidRequest, context: "creating link \(d.name)", kernelMessage: error.description)
                }
            default:
                rest.append(c)
            }
        }
        record(try send(xfrm, phase1Xfrm))
        var created: [DesiredLink] = []
        for c in try send(route, phase1) {
            if case .createLink(let d) = c { created.append(d) } else { record([c]) }
        }
        // The kernel chose the new interfaces' indexes: one lookup each for a few, one dump for many.
        if created.count > Self.lookupLimit {
            for l in try route.links() { state.insert(l) }
        } else {
            for d in created {
                guard let l = try route.link(named: d.name) else {
                    predictable = false
                    continue
                }
                state.insert(l)
            }
        }
        // Phase 2: MTU, addresses, link state, routes (rtnetlink) and policies (XFRM), each in
        // the planner's order.
        var phase2: [(NetlinkRequest, KernelChange)] = [], phase2Xfrm: [(NetlinkRequest, KernelChange)] = []
        for c in rest {
            if case .addPolicy(let p) = c {
                phase2Xfrm.append((p.addRequest(), c))
            } else if let r = try request(c, state.indexByName) {
                phase2.append((r, c))
            }
        }
        record(try send(route, phase2))
        record(try send(xfrm, phase2Xfrm))
        try deletion.start(background)
        if let firstError { throw firstError }
        return predictable
    }

    /// Above this many new interfaces, one link dump is cheaper than a lookup each.
    static let lookupLimit = 32

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
