import ArgumentParser
import Foundation
import KernelModel
import KernelDataplane
import Reconciler
import Synchronization
import Topology

/// `viaduct bench apply`: how long the reconciler executor takes to bring a kernel to a node's
/// desired state, for a hub with many peers, from empty and for one peer added or removed.
///
/// Shapes. `--backend kernel` (the default where the kernel has xfrm interfaces, e.g. the
/// kernel lab VM) is exactly what `viaduct run` does with `dataplane: kernel`: xfrm interfaces,
/// inside addresses, static routes and route-based policies, all through netlink. On a kernel
/// without xfrm interfaces (the development host), `--backend userspace` measures the same
/// objects with the userspace data plane's links: persistent TUN devices, made first through
/// /dev/net/tun (an ioctl each, timed and printed apart, not netlink), then MTU, up, addresses,
/// routes, plus the kernel shape's route-based policies (XFRM policies bound to an `if_id` do
/// not need the interface to exist), so every kind of object is still counted.
///
/// The one-peer figures are given twice, for honesty: against the executor's cached state (what
/// `viaduct run` does between its periodic full looks) and after a full observation (`resync`).
/// A removed interface is deleted in the background as in `viaduct run`; the time until it is
/// really gone is printed too, and so is the kernel's own cost of one `RTM_DELLINK`.
struct BenchApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Time reconciling a node with N peers from empty, and adding or removing one peer.",
        discussion: """
            Creates a network namespace vdt-bench-apply-PID, generates a hub topology with N \
            spokes (static routing: an interface, an inside address, a route and out/in/fwd policies per \
            peer), and in the namespace times: reconcile from empty; reconcile again with nothing \
            to do (against the cached state, and after a full observe); add one peer and remove it \
            against the cached state (what `viaduct run` does: only that peer's changes are sent), \
            and again with a full observe first (`resync`, the old path); the kernel's own cost of \
            deleting one interface. One-peer figures: median and best of --runs. Deletes the \
            namespace at the end. Needs root.
            """)

    @Option(help: "Number of peers (1...4000).")
    var peers = 1000

    @Option(help: "Repetitions of the one-peer add and remove; the median is reported.")
    var runs = 5

    @Option(help: "kernel (xfrm interfaces; needs a kernel with them) or userspace (TUN links; any kernel).")
    var backend: String = "userspace"

    func run() throws {
        guard (1...4000).contains(peers), (1...100).contains(runs) else {
            Output.error("viaduct: error: --peers must be 1...4000 and --runs 1...100")
            throw ExitCode(1)
        }
        guard let shape = DesiredKernelState.Backend(rawValue: backend) else {
            Output.error("viaduct: error: --backend must be kernel or userspace")
            throw ExitCode(1)
        }
        guard getuid() == 0 else {
            Output.error("viaduct: error: bench apply needs root (it creates a network namespace)")
            throw ExitCode(1)
        }
        var building = Duration.zero
        let base = try Self.desired(peers: peers, shape: shape) { building = $0 }
        let grown = try Self.desired(peers: peers + 1, shape: shape)
        let namespace = "vdt-bench-apply-\(getpid())"
        try Self.ip(["netns", "add", namespace])
        defer { _ = try? Self.ip(["netns", "del", namespace]) }
        let report = try Self.inNamespace(namespace) { () throws(NetlinkError) -> Report in
            try Self.measure(base: base, grown: grown, shape: shape, runs: runs)
        }
        let perPeer = base.policies.count / max(1, peers)
        print("bench apply: \(peers) peers, backend \(shape.rawValue), namespace \(namespace), \(runs) runs")
        print("  desired: \(base.links.count) links, \(base.addresses.count) addresses, \(base.routes.count) routes, \(base.policies.count) policies (\(perPeer) per peer)")
        if let tun = report.tunCreation {
            print("  TUN devices created first (ioctl, not netlink): \(Self.ms(tun))")
        }
        print("  from empty (full observe, plan, apply): \(report.fromEmptyChanges) changes in \(Self.ms(report.fromEmpty))")
        print("    of which planning (pure): \(Self.ms(report.planFromEmpty))")
        print("  nothing to do, cached state (plan only): \(Self.ms(report.noopCached))")
        print("  nothing to do, full observe (dumps + plan): \(Self.ms(report.noopFull))")
        print("  one peer against the cached state (what `viaduct run` does):")
        print("    (before each, the daemon builds the desired state from its NodePlan: \(Self.ms(building)))")
        print("    add (\(report.addChanges) changes): \(Self.stats(report.addCached))")
        print("    remove (\(report.removeChanges) changes; returns once the interface is down): \(Self.stats(report.removeCached))")
        print("      interface gone (its deletion, left to a background thread, done): \(Self.stats(report.removeCachedGone))")
        print("    of which planning (pure, one-peer diff of \(peers)): \(Self.stats(report.planCached))")
        print("    full observations during these: \(report.cachedFullObservations)")
        print("  one peer with a full observe first (`resync`; the old path):")
        print("    add: \(Self.stats(report.addFull))")
        print("    remove, until the interface is gone: \(Self.stats(report.removeFull))")
        print("    of which observe (dump links, addresses, routes, policies): \(Self.stats(report.observe))")
        print("  kernel floor: deleting one interface alone (RTM_DELLINK, waits for the kernel's RCU teardown): \(Self.stats(report.linkDelete))")
    }

    struct Report: Sendable {
        var tunCreation: Duration?
        var fromEmpty: Duration = .zero
        var fromEmptyChanges = 0
        var planFromEmpty: Duration = .zero
        var noopCached: Duration = .zero
        var noopFull: Duration = .zero
        var addCached: [Duration] = []
        var removeCached: [Duration] = []
        var removeCachedGone: [Duration] = []
        var planCached: [Duration] = []
        var cachedFullObservations = 0
        var addFull: [Duration] = []
        var removeFull: [Duration] = []
        var addChanges = 0
        var removeChanges = 0
        var observe: [Duration] = []
        var linkDelete: [Duration] = []
    }

    static func measure(base: DesiredKernelState, grown: DesiredKernelState, shape: DesiredKernelState.Backend,
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
            report.removeCachedGone.append(removed + (try Self.timeDeletions(reconciliation, clock)))
            report.cachedFullObservations += reconciliation.fullObservations - before
            try makeTun()
            report.addFull.append(try timed(grown, resync: true))
            let removedFull = try timed(base, resync: true)
            report.removeFull.append(removedFull + (try Self.timeDeletions(reconciliation, clock)))
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

    static func stats(_ d: [Duration]) -> String {
        "median \(ms(median(d))), best \(ms(d.min() ?? .zero))"
    }

    /// A hub with `peers` unmanaged spokes on IPv6 underlay addresses, static routing, each spoke
    /// with a /27 out of 198.18.0.0/15; the hub's desired state. With `.userspace`, the kernel
    /// shape's policies are added (see the type's comment).
    static func desired(peers: Int, shape: DesiredKernelState.Backend, built: ((Duration) -> Void)? = nil) throws -> DesiredKernelState {
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
            Output.print(loaded.diagnostics)
            throw ExitCode(1)
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
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
    }

    /// Runs `body` on a fresh thread that entered `namespace`; this thread never changes namespace.
    static func inNamespace<T: Sendable>(_ namespace: String, _ body: @escaping @Sendable () throws(NetlinkError) -> T) throws -> T {
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
        guard let outcome = result.withLock({ $0 }) else { throw ExitCode(1) }
        switch outcome {
        case .success(let v): return v
        case .failure(let e):
            Output.error("viaduct: error: \(e)")
            throw ExitCode(1)
        }
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            Output.error("viaduct: error: ip \(arguments.joined(separator: " ")) failed")
            throw ExitCode(1)
        }
        return p.terminationStatus
    }

    static func median(_ d: [Duration]) -> Duration { d.isEmpty ? .zero : d.sorted()[d.count / 2] }

    static func ms(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return String(format: "%.1f ms", ms)
    }
}
