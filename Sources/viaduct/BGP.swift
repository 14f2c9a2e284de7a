import ArgumentParser
import Foundation
import Tools
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
            session drops at once instead of waiting for the hold timer; sessions to managed peers \
            also run BFD (the topology's bgp.bfd, 300 ms x 3 unless set), which catches a peer that \
            died with its tunnel still up. ECMP across parallel tunnels: FRR's maximum-paths is set; \
            BIRD needs 'merge paths on' in its kernel protocol. With bgp.password-file, every \
            session gets that password (TCP MD5) and the output holds it: keep it mode 0600.

            The output is meant to be used as is. BIRD: write it to /etc/bird/viaduct.conf, \
            include that from bird.conf, 'birdc configure' (Deploy/bird/viaduct-bird-reload does the \
            three, and only reconfigures when the file changed). FRR: apply it with FRR's \
            'frr-reload.py --reload FILE' (or 'vtysh -f FILE', which only adds); its 'bgp router-id' \
            (the first IPv4 underlay address) can be left to frr.conf with --no-router-id. It is \
            derived from the topology alone, like 'plan'.

            EXAMPLES
              viaduct bgp Topologies/dci-two-site.yaml --node dc1 --format bird > /etc/bird/viaduct.conf
              viaduct bgp site.yaml --node onprem --format frr --no-router-id > /etc/frr/viaduct.conf
              /usr/lib/frr/frr-reload.py --reload /etc/frr/viaduct.conf
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "The gateway (a name under 'gateways').")
    var node: String

    @Option(help: "bird (BIRD 2) or frr.")
    var format: BGPConfigRenderer.Format = .bird

    @Flag(help: "FRR: leave 'bgp router-id' to frr.conf.")
    var noRouterId = false

    func run() throws {
        guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
        // Key and certificate files are irrelevant to routing configuration: this may run on a
        // machine that has none of them.
        switch NodePlanner.plan(t, links: loaded.links, node: node, fileExists: { _ in true }) {
        case .success(let plan):
            let password: String?
            do { password = try BGPPasswordFile.password(of: plan) } catch {
                Output.error("viaduct: error: \(error.message)")
                throw ExitCode(1)
            }
            print(BGPConfigRenderer.render(plan, format: format, source: (file as NSString).lastPathComponent,
                                           routerID: !noRouterId, password: password), terminator: "")
        case .failure(let e):
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
    }
}
