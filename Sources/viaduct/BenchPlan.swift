import ArgumentParser
import Foundation
import Topology

struct BenchPlan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Time parsing, validating and planning a full mesh of N gateways.",
        discussion: """
            Generates a topology with N managed gateways in one full mesh (N*(N-1)/2 tunnels, /31 \
            inside prefixes from 169.254.0.0/16), then reports, as the median of --runs runs: the \
            time to parse and validate it (every gateway's interface names, if_ids and routes \
            included), and the time to derive one node's plan.
            """)

    @Option(help: "Number of gateways in the mesh (2...250).")
    var gateways = 200

    @Option(help: "Repetitions; the median is reported.")
    var runs = 5

    func run() throws {
        guard (2...250).contains(gateways), (1...1000).contains(runs) else {
            Output.error("viaduct: error: --gateways must be 2...250 and --runs 1...1000")
            throw ExitCode(1)
        }
        let yaml = Self.meshTopology(gateways)
        var loadTimes: [Duration] = [], planTimes: [Duration] = []
        var tunnels = 0, planned = 0
        let clock = ContinuousClock()
        for _ in 0..<runs {
            var loaded: LoadedTopology?
            loadTimes.append(clock.measure { loaded = TopologyLoader.load(yaml: yaml, file: "bench-mesh.yaml") })
            guard let loaded, loaded.isValid, let t = loaded.topology else {
                Output.print(loaded?.diagnostics ?? [])
                throw ExitCode(1)
            }
            tunnels = loaded.links.count
            planTimes.append(clock.measure {
                if case .success(let p) = NodePlanner.plan(t, links: loaded.links, node: "gw1", fileExists: { _ in true }) {
                    planned = p.tunnels.count
                }
            })
        }
        func median(_ d: [Duration]) -> String {
            let s = d.sorted()[d.count / 2]
            let ms = Double(s.components.seconds) * 1000 + Double(s.components.attoseconds) / 1e15
            return String(format: "%.1f ms", ms)
        }
        print("mesh of \(gateways) gateways: \(tunnels) tunnels, \(yaml.utf8.count) bytes of YAML, \(runs) runs")
        print("parse + validate (all gateways): \(median(loadTimes)) median")
        print("plan one node (\(planned) tunnels): \(median(planTimes)) median")
    }

    static func meshTopology(_ n: Int) -> String {
        var y = """
            version: 1
            pki: { ca: ca.pem }
            gateways:

            """
        for i in 1...n {
            y += "  gw\(i): { address: 192.0.2.\(i), identity: gw\(i).example.net, certificate: gw\(i).pem, key: gw\(i).key, asn: \(64_512 + i), networks: [198.\(18 + (i - 1) / 256).\((i - 1) % 256).0/24] }\n"
        }
        y += "tunnels:\n  - mesh: [\((1...n).map { "gw\($0)" }.joined(separator: ", "))]\n"
        y += "    inside-pool: 169.254.0.0/16\n    inside-prefix-length: 31\n    routing: bgp\n"
        return y
    }
}
