import ArgumentParser
import Foundation
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

            The JSON form (--json) is stable and documented in docs/plan-json.md.

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

    func run() throws {
        guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
        switch NodePlanner.plan(t, links: loaded.links, node: node, fileExists: FileManager.default.fileExists(atPath:)) {
        case .success(let plan):
            print(json ? PlanRenderer.json(plan) : PlanRenderer.table(plan), terminator: "")
        case .failure(let e):
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
    }
}
