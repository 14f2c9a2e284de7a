import Foundation
import KernelDataplane
import KernelModel
import Reconciler
import Synchronization
import Topology

/// How long the reconciler executor takes to bring a kernel to a hub's desired state, from
/// empty and for one peer added or removed (`viaduct bench apply`, which says what each figure
/// is). Runs in a namespace the caller made.
public enum ApplyBenchmark {
    public struct Report: Sendable {
        public var tunCreation: Duration?
        public var fromEmpty: Duration = .zero
        public var fromEmptyChanges = 0
        public var planFromEmpty: Duration = .zero
        public var noopCached: Duration = .zero
        public var noopFull: Duration = .zero
        public var addCached: [Duration] = []
        public var removeCached: [Duration] = []
        public var removeCachedGone: [Duration] = []
        public var planCached: [Duration] = []
        public var cachedFullObservations = 0
        public var addFull: [Duration] = []
        public var removeFull: [Duration] = []
        public var addChanges = 0
        public var removeChanges = 0
        public var observe: [Duration] = []
        public var linkDelete: [Duration] = []
    }

    public static func measure(base: DesiredKernelState, grown: DesiredKernelState, shape: DesiredKernelState.Backend,
                        runs: Int) throws(NetlinkError) -> Report {
        var report = Report()
        let clock = ContinuousClock()
        if shape == .userspace {
            var failure: NetlinkError?
            report.tunCreation = clock.measure {
                for link in base.links where failure == nil {
                    do throws(NetlinkError) { try TunDevice.createPersistent(name: link.name) } catch { failure = error }
                }
            }
            if let failure { throw failure }
        }
        // As `viaduct run` makes it: removed interfaces are deleted in the background.
        let reconciliation = try KernelReconciliation(defersInterfaceDeletion: true)
        var changes: [KernelChange] = []
        var failure: NetlinkError?
        func timed(_ desired: DesiredKernelState, resync: Bool) throws(NetlinkError) -> Duration {
            let d = clock.measure {
                do throws(NetlinkError) { changes = try reconciliation.reconcile(desired, resync: resync) } catch { failure = error }
            }
            if let failure { throw failure }
            return d
        }
        let extra = grown.links.first { l in !base.links.contains { $0.name == l.name } }
        func makeTun() throws(NetlinkError) {
            // The userspace data plane makes its TUN before the reconciler configures it.
            if shape == .userspace, let extra { try TunDevice.createPersistent(name: extra.name) }
        }
        report.fromEmpty = try timed(base, resync: true)
        report.fromEmptyChanges = changes.count
        report.planFromEmpty = clock.measure { _ = Reconciler.plan(desired: base, observed: KernelStateCache()) }
        report.noopFull = try timed(base, resync: true)
        report.noopCached = try timed(base, resync: false)
        for _ in 0..<runs {
            try makeTun()
            let before = reconciliation.fullObservations
            report.addCached.append(try timed(grown, resync: false))
            report.addChanges = changes.count
            if let cache = reconciliation.cache {
                report.planCached.append(clock.measure { _ = Reconciler.plan(desired: base, observed: cache) })
            }
            let removed = try timed(base, resync: false)
            report.removeCached.append(removed)
            report.removeChanges = changes.count
            report.removeCachedGone.append(removed + (try timeDeletions(reconciliation, clock)))
            report.cachedFullObservations += reconciliation.fullObservations - before
            try makeTun()
            report.addFull.append(try timed(grown, resync: true))
            let removedFull = try timed(base, resync: true)
            report.removeFull.append(removedFull + (try timeDeletions(reconciliation, clock)))
            report.observe.append(clock.measure { _ = try? reconciliation.observe() })
        }
        // The kernel's own cost of removing an interface, with nothing else in the request.
        let socket = try NetlinkSocket(.route)
        for _ in 0..<runs {
            guard let extra else { break }
            if shape == .userspace {
                try TunDevice.createPersistent(name: extra.name)
            } else {
                do {
                    try socket.apply([try Link(name: extra.name, kind: extra.kind, mtu: extra.mtu).addRequest()])
                } catch let e as NetlinkError {
                    throw e
                } catch {
                    throw NetlinkError(.invalidRequest, context: "creating \(extra.name)", kernelMessage: "\(error)")
                }
            }
            guard let link = try socket.link(named: extra.name) else { continue }
            let delete = Link.deleteRequest(index: link.index, name: extra.name)
            let start = clock.now
            try socket.apply([delete])
            report.linkDelete.append(clock.now - start)
        }
        _ = try reconciliation.reconcile(DesiredKernelState(), resync: true)
        return report
    }

    /// How long the interface deletions handed to the background still take.
    static func timeDeletions(_ reconciliation: KernelReconciliation, _ clock: ContinuousClock) throws(NetlinkError) -> Duration {
        let start = clock.now
        try reconciliation.waitForDeletions()
        return clock.now - start
    }

    /// A hub with `peers` unmanaged spokes on IPv6 underlay addresses, static routing, each spoke
    /// with a /27 out of 198.18.0.0/15; the hub's desired state. With `.userspace`, the kernel
    /// shape's policies are added (see the type's comment).
    public static func desired(peers: Int, shape: DesiredKernelState.Backend, built: ((Duration) -> Void)? = nil) throws(BenchmarkTopologyError) -> DesiredKernelState {
        var y = """
            version: 1
            pki: { ca: ca.pem }
            gateways:
              hub: { address: 2001:db8::1, identity: hub.example.net, certificate: hub.pem, key: hub.key, networks: [198.19.255.0/24] }

            """
        for i in 1...peers {
            let offset = (i - 1) * 32
            let prefix = "198.\(18 + offset / 65_536).\((offset / 256) % 256).\(offset % 256)/27"
            y += "  s\(i): { address: 2001:db8::\(String(i + 1, radix: 16)), identity: s\(i).example.net, managed: false, networks: [\(prefix)] }\n"
        }
        y += "tunnels:\n  - hub: hub\n    spokes: [\((1...peers).map { "s\($0)" }.joined(separator: ", "))]\n"
        y += "    inside-pool: 169.254.0.0/16\n    routing: static\n"
        let loaded = TopologyLoader.load(yaml: y, file: "bench-apply.yaml")
        guard loaded.isValid, let topology = loaded.topology else {
            throw BenchmarkTopologyError(diagnostics: loaded.diagnostics)
        }
        switch NodePlanner.plan(topology, links: loaded.links, node: "hub", fileExists: { _ in true }) {
        case .success(let plan):
            if let built {
                // What every daemon sync does before planning: the desired state from the plan.
                var times: [Duration] = []
                for _ in 0..<5 { times.append(ContinuousClock().measure { _ = DesiredKernelState(plan: plan, backend: shape) }) }
                built(median(times))
            }
            var desired = DesiredKernelState(plan: plan, backend: shape)
            if shape == .userspace { desired.policies = DesiredKernelState(plan: plan, backend: .kernel).policies }
            return desired
        case .failure(let e):
            throw BenchmarkTopologyError(diagnostics: e.diagnostics)
        }
    }

    /// Runs `body` on a fresh thread that entered `namespace`; this thread never changes namespace.
    public static func inNamespace<T: Sendable>(_ namespace: String, _ body: @escaping @Sendable () throws(NetlinkError) -> T) throws -> T {
        let result = Mutex<Result<T, NetlinkError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            do throws(NetlinkError) {
                try NetworkNamespaceEntry.enter(named: namespace)
                let value = try body()
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
        done.wait()
        guard let outcome = result.withLock({ $0 }) else { throw BenchmarkError("the thread in \(namespace) ended without a result") }
        return try outcome.get()
    }

    public static func median(_ d: [Duration]) -> Duration { d.isEmpty ? .zero : d.sorted()[d.count / 2] }
}
