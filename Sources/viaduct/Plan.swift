import ArgumentParser
import Daemon
import Foundation
import Glibc
import KernelDataplane
import Reconciler
import Topology

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the desired state of one gateway: interfaces, addresses, routes, IKE peers.",
        discussion: """
            Validates the topology, then derives what NODE should look like: one tunnel interface \
            per peer (name, kind, if_id, MTU), the inside addresses of both ends, the routes (static \
            routing) or BGP neighbors (bgp routing), and each IKE peer (addresses, identities, \
            proposals, lifetimes, DPD, and whether this end initiates). Names, if_ids, inside \
            addresses and roles are derived deterministically: both ends of a tunnel agree without \
            talking, and adding a gateway to a mesh changes no existing tunnel.

            The JSON form (--json) is stable and documented in docs/plan-json.md. Credential files \
            that do not exist yet are warnings here (the plan is still shown), and errors for \
            'viaduct run' and 'viaduct validate --node'.

            Run as root on the gateway itself, 'plan' also compares the plan with this kernel and \
            lists the changes that would bring it there (interfaces, addresses, routes, policies; \
            the same changes 'viaduct run' makes, with every tunnel up), or says the kernel already \
            matches. --no-kernel skips that.

            EXAMPLES
              viaduct plan Topologies/dci-two-site.yaml --node dc1
              viaduct plan site.yaml --node branch-a --json | jq '.tunnels[].interface'
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "The gateway to plan for (a name under 'gateways').")
    var node: String

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Flag(help: "Do not compare with this machine's kernel, even as root.")
    var noKernel = false

    func run() throws {
        guard let loaded = Output.loadValid(file), var t = loaded.topology else { throw ExitCode(1) }
        // The plan names credential files by absolute path (docs/plan-json.md), wherever it is run from.
        t.file = URL(fileURLWithPath: t.file).standardizedFileURL.path
        switch NodePlanner.planWarningOfMissingFiles(t, links: loaded.links, node: node, fileExists: FileManager.default.fileExists(atPath:)) {
        case .success(let (plan, warnings)):
            Output.print(warnings)
            print(json ? PlanRenderer.json(plan) : PlanRenderer.table(plan), terminator: "")
            if !json && !noKernel && getuid() == 0 { kernelDiff(plan) }
        case .failure(let e):
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
    }

    /// The reconciler's changes against this kernel, for the data plane `run` would choose.
    func kernelDiff(_ plan: NodePlan) {
        do {
            let (backend, changes) = try KernelPreview.changes(for: plan)
            print("\nagainst this kernel (\(backend.rawValue) data plane, every tunnel up): ", terminator: "")
            if changes.isEmpty {
                print("no changes")
            } else {
                print("\(changes.count) change\(changes.count == 1 ? "" : "s")")
                for c in changes {
                    if backend == .userspace, case .createLink(let l) = c {
                        print("  + link \(l.name) type tun (created by the userspace data plane)")
                    } else {
                        print("  \(c)")
                    }
                }
            }
        } catch {
            Output.error("viaduct: note: could not compare with this kernel: \(error)")
        }
    }
}
