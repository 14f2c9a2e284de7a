import ArgumentParser
import Daemon
import Dataplane
import Foundation
import KernelModel
import KernelDataplane
import Reconciler
import Topology

/// `viaduct down`: takes everything Viaduct put into this host's kernel out again, and nothing
/// else. What is Viaduct's is decided exactly as the reconciler decides it (`Ownership`): tunnel
/// interfaces with Viaduct's prefix (or named by the plan), routes with Viaduct's `rtm_protocol`,
/// route-based policies with Viaduct's priority; SAs are Viaduct's when bound to one of those
/// interfaces or policies (`KernelSAOwnership`). So another VPN, a BGP daemon's routes or an
/// operator's interfaces on the same box survive.
struct Down: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove every tunnel interface, route, XFRM policy and SA Viaduct created on this host.",
        discussion: """
            DESCRIPTION
              Deletes, in the current network namespace: the SAs bound to Viaduct's tunnel \
            interfaces or policies (first, so no key outlives its tunnel), then Viaduct's \
            route-based XFRM policies, its routes (protocol viaduct), and its tunnel interfaces \
            (xfrm, VTI and TUN interfaces named vd-*, with their addresses), and its nftables \
            table 'inet viaduct' (the MSS clamp rules of the kernel data plane). Each removed \
            object is printed. Objects of other software, other nftables tables among them, are \
            never touched.

              Stop 'viaduct run' first: a running daemon would negotiate its tunnels again.

              With FILE and --node, the interfaces the plan names are removed too, even when they \
            were renamed away from the vd- prefix with 'interface:'. Without them, only what \
            carries Viaduct's marks is removed.

            EXIT STATUS
              0 when everything Viaduct owned is gone (also when there was nothing). 1 when the \
            topology is invalid, the node unknown, or the kernel refused a deletion.

            EXAMPLES
              viaduct down
              viaduct down /etc/viaduct/topology.yaml --node dc1
            """)

    @Argument(help: "The topology file (YAML); optional.")
    var file: String?

    @Option(help: "The gateway this host is (with FILE).")
    var node: String?

    func validate() throws {
        if (file == nil) != (node == nil) {
            throw ValidationError("FILE and --node go together")
        }
    }

    func run() throws {
        var planNames: Set<String> = []
        var planBindings: Set<KernelSABinding> = []
        if let file, let node {
            guard let loaded = Output.loadValid(file), let topology = loaded.topology else { throw ExitCode(1) }
            switch NodePlanner.plan(topology, links: loaded.links, node: node, fileExists: FileManager.default.fileExists(atPath:)) {
            case .success(let plan):
                planNames = Set(plan.tunnels.map(\.interface.name))
                planBindings = Set(KernelSABinding.bindings(plan: plan).values)
            case .failure(let e):
                Output.print(e.diagnostics)
                throw ExitCode(1)
            }
        }
        do {
            let removed = try KernelTeardown.run(planNames: planNames, planBindings: planBindings) { print($0) }
            print(removed == 0 ? "nothing of Viaduct's in this kernel" : "removed \(removed) object\(removed == 1 ? "" : "s")")
        } catch {
            Output.error("viaduct: error: \(error)")
            throw ExitCode(1)
        }
    }
}
