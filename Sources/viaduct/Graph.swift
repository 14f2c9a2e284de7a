import ArgumentParser
import Daemon
import Foundation
import Tools
import Topology

/// `viaduct graph`: the topology as Graphviz DOT, with live tunnel state from the daemons whose
/// sockets are given. The picture is `TopologyGraph.dot` (pure); this only loads and asks.
struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the network as a Graphviz DOT graph: gateways, sites, tunnels (and their live state).",
        discussion: """
            One node per gateway (name, underlay addresses, AS number; dashed for 'managed: false' \
            peers such as cloud VPN endpoints), one note per gateway with its site networks, one \
            edge per tunnel with each end's interface and inside addresses and the routing (bgp or \
            static). The output is deterministic; render it with Graphviz (package graphviz).

            With --status (once per gateway: its control socket, or its read-only status socket), \
            each tunnel is drawn in its live state: established with a Child SA green, connecting \
            orange dashed, down red dashed with the daemon's reason (in full in the SVG tooltip), \
            unknown grey dotted when neither end's daemon answered. A socket that cannot be read \
            is a warning; the graph is still printed.

            EXAMPLES
              viaduct graph Topologies/hub-branches.yaml | dot -Tsvg > hub-branches.svg
              viaduct graph site.yaml --status dc1.sock --status dc2.sock | dot -Tsvg > now.svg
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(name: .customLong("status"), help: ArgumentHelp("A gateway daemon's control or status socket; repeat for each gateway.", valueName: "socket"))
    var sockets: [String] = []

    func run() throws {
        guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
        var status: TopologyGraph.Status?
        if !sockets.isEmpty {
            var reports: [TopologyGraph.TunnelReport] = []
            for path in sockets {
                switch Self.ask(path) {
                case .success(let s) where t.gateway(named: s.node) == nil:
                    Output.error("viaduct: warning: the daemon at \(path) runs gateway '\(s.node)', which \(file) does not declare; its status is not shown")
                case .success(let s):
                    reports += s.graphReports
                case .failure(let failure):
                    Output.error("viaduct: warning: no status from \(path): \(failure.message); its gateway's tunnels are drawn as unknown unless their other end reports")
                }
            }
            status = TopologyGraph.Status(reports: reports)
        }
        print(TopologyGraph.dot(topology: t, links: loaded.links, status: status), terminator: "")
    }

    struct Failure: Error { var message: String }

    /// One `status` request; any failure is a message for a warning.
    static func ask(_ path: String) -> Result<NodeStatus, Failure> {
        do {
            return .success(try ControlClient.status(at: path))
        } catch let e as DaemonError where e.code == .configuration && e.errno != nil {
            // ControlClient's own words point at `--socket`, an option of `status`.
            return .failure(Failure(message: "no viaduct daemon is listening there"))
        } catch let e as DaemonError {
            return .failure(Failure(message: e.message))
        } catch let e as ControlMessage.ErrorBody {
            return .failure(Failure(message: e.message))
        } catch {
            return .failure(Failure(message: "\(error)"))
        }
    }
}
