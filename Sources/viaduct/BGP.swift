import ArgumentParser
import Foundation
import Topology

extension BGPConfigRenderer.Format: ExpressibleByArgument {}

struct BGP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgp",
        abstract: "Print BIRD or FRR neighbor configuration for a gateway's BGP tunnels.",
        discussion: """
            For every tunnel of NODE with 'routing: bgp', one BGP session per inside address family, \
            bound to the tunnel interface, between the inside addresses Viaduct assigns, with the AS \
            numbers from the topology. Import filters accept the networks the peer declares (and \
            longer prefixes inside them); export filters announce this gateway's networks and its \
            other BGP peers' networks, so traffic can detour through a third site when a direct \
            tunnel is down. Viaduct takes a tunnel's interface down when its SAs are gone, so the \
            session drops at once instead of waiting for the hold timer.

            The output is meant to be included as is: BIRD with 'include', FRR merged into frr.conf. \
            It is derived from the topology alone, like 'plan'.

            EXAMPLES
              viaduct bgp Topologies/dci-two-site.yaml --node dc1 --format bird > /etc/bird/viaduct-dc1.conf
              viaduct bgp site.yaml --node onprem --format frr
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "The gateway (a name under 'gateways').")
    var node: String

    @Option(help: "bird (BIRD 2) or frr.")
    var format: BGPConfigRenderer.Format = .bird

    func run() throws {
        guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
        // Key and certificate files are irrelevant to routing configuration: this may run on a
        // machine that has none of them.
        switch NodePlanner.plan(t, links: loaded.links, node: node, fileExists: { _ in true }) {
        case .success(let plan):
            print(BGPConfigRenderer.render(plan, format: format, source: (file as NSString).lastPathComponent), terminator: "")
        case .failure(let e):
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
    }
}
