import ArgumentParser
import Foundation
import Tools
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
        let report: PlanBenchmark.Report
        switch PlanBenchmark.measure(gateways: gateways, runs: runs) {
        case .success(let r): report = r
        case .failure(let e):
            Output.print(e.diagnostics)
            throw ExitCode(1)
        }
        func median(_ d: [Duration]) -> String {
            let s = d.sorted()[d.count / 2]
            let ms = Double(s.components.seconds) * 1000 + Double(s.components.attoseconds) / 1e15
            return String(format: "%.1f ms", ms)
        }
        print("mesh of \(gateways) gateways: \(report.tunnels) tunnels, \(report.yamlBytes) bytes of YAML, \(runs) runs")
        print("parse + validate (all gateways): \(median(report.loadTimes)) median")
        print("plan one node (\(report.planned) tunnels): \(median(report.planTimes)) median")
    }
}
