import ArgumentParser
import Foundation
import KernelModel
import KernelDataplane
import Reconciler
import Tools
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
        let base: DesiredKernelState, grown: DesiredKernelState
        do throws(BenchmarkTopologyError) {
            base = try ApplyBenchmark.desired(peers: peers, shape: shape) { building = $0 }
            grown = try ApplyBenchmark.desired(peers: peers + 1, shape: shape)
        } catch {
            Output.print(error.diagnostics)
            throw ExitCode(1)
        }
        let namespace = "vdt-bench-apply-\(getpid())"
        try Self.ip(["netns", "add", namespace])
        defer { _ = try? Self.ip(["netns", "del", namespace]) }
        let report: ApplyBenchmark.Report
        do {
            report = try ApplyBenchmark.inNamespace(namespace) { () throws(NetlinkError) -> ApplyBenchmark.Report in
                try ApplyBenchmark.measure(base: base, grown: grown, shape: shape, runs: runs)
            }
        } catch {
            Output.error("viaduct: error: \(error)")
            throw ExitCode(1)
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

    static func stats(_ d: [Duration]) -> String {
        "median \(ms(ApplyBenchmark.median(d))), best \(ms(d.min() ?? .zero))"
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

    static func ms(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return String(format: "%.1f ms", ms)
    }
}
