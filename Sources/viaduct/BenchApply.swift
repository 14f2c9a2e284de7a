import ArgumentParser
import Foundation
import KernelModel
import Netlink
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
struct BenchApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Time reconciling a node with N peers from empty, and adding or removing one peer.",
        discussion: """
            Creates a network namespace vdt-bench-apply-PID, generates a hub topology with N \
            spokes (static routing: an interface, an inside address, a route and out/in/fwd policies per \
            peer), and in the namespace times: reconcile from empty; reconcile again with nothing \
            to do; add one peer; remove it (each --runs times, median and best printed). Deletes \
            the namespace at the end. Needs root.
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
        let base = try Self.desired(peers: peers, shape: shape)
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
        print("  from empty: \(report.fromEmptyChanges) changes in \(Self.ms(report.fromEmpty))")
        print("  again, nothing to do (observe + plan): \(Self.ms(report.noop))")
        print("  add one peer (\(report.addChanges) changes): median \(Self.ms(Self.median(report.add))), best \(Self.ms(report.add.min() ?? .zero))")
        print("  remove one peer (\(report.removeChanges) changes): median \(Self.ms(Self.median(report.remove))), best \(Self.ms(report.remove.min() ?? .zero))")
        print("  of which observe (dump links, addresses, routes, policies): median \(Self.ms(Self.median(report.observe)))")
    }

    struct Report: Sendable {
        var tunCreation: Duration?
        var fromEmpty: Duration = .zero
        var fromEmptyChanges = 0
        var noop: Duration = .zero
        var add: [Duration] = []
        var addChanges = 0
        var remove: [Duration] = []
        var removeChanges = 0
        var observe: [Duration] = []
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
        let reconciliation = try KernelReconciliation()
        var changes: [KernelChange] = []
        var failure: NetlinkError?
        func timed(_ desired: DesiredKernelState) throws(NetlinkError) -> Duration {
            let d = clock.measure {
                do throws(NetlinkError) { changes = try reconciliation.reconcile(desired) } catch { failure = error }
            }
            if let failure { throw failure }
            return d
        }
        report.fromEmpty = try timed(base)
        report.fromEmptyChanges = changes.count
        report.noop = try timed(base)
        for _ in 0..<runs {
            if shape == .userspace, let extra = grown.links.first(where: { l in !base.links.contains { $0.name == l.name } }) {
                // The userspace data plane makes its TUN before the reconciler configures it.
                try TunDevice.createPersistent(name: extra.name)
            }
            report.add.append(try timed(grown))
            report.addChanges = changes.count
            report.remove.append(try timed(base))
            report.removeChanges = changes.count
            report.observe.append(clock.measure { _ = try? reconciliation.observe() })
        }
        _ = try reconciliation.reconcile(DesiredKernelState())
        return report
    }

    /// A hub with `peers` unmanaged spokes on IPv6 underlay addresses, static routing, each spoke
    /// with a /27 out of 198.18.0.0/15; the hub's desired state. With `.userspace`, the kernel
    /// shape's policies are added (see the type's comment).
    static func desired(peers: Int, shape: DesiredKernelState.Backend) throws -> DesiredKernelState {
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
