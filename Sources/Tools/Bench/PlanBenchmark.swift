import Topology

/// Parsing, validating and planning a full mesh of N gateways (`viaduct bench plan`).
public enum PlanBenchmark {
    public struct Report: Sendable {
        /// Bytes of the generated YAML.
        public var yamlBytes: Int
        public var tunnels = 0
        /// Tunnels in the plan of `gw1`.
        public var planned = 0
        public var loadTimes: [Duration] = []
        public var planTimes: [Duration] = []
    }

    /// `runs` times: load (parse + validate) the mesh of `gateways`, then plan its first gateway.
    public static func measure(gateways: Int, runs: Int) -> Result<Report, BenchmarkTopologyError> {
        let yaml = meshTopology(gateways)
        var report = Report(yamlBytes: yaml.utf8.count)
        let clock = ContinuousClock()
        for _ in 0..<runs {
            var loaded: LoadedTopology?
            report.loadTimes.append(clock.measure { loaded = TopologyLoader.load(yaml: yaml, file: "bench-mesh.yaml") })
            guard let loaded, loaded.isValid, let t = loaded.topology else {
                return .failure(BenchmarkTopologyError(diagnostics: loaded?.diagnostics ?? []))
            }
            report.tunnels = loaded.links.count
            report.planTimes.append(clock.measure {
                if case .success(let p) = NodePlanner.plan(t, links: loaded.links, node: "gw1", fileExists: { _ in true }) {
                    report.planned = p.tunnels.count
                }
            })
        }
        return .success(report)
    }

    /// A full mesh of `n` managed gateways gw1...gwN, BGP over /31 inside prefixes.
    public static func meshTopology(_ n: Int) -> String {
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
