import ArgumentParser
import Foundation
import Topology

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a topology file and report every problem in it.",
        discussion: """
            Parses the whole file and checks it the way 'plan' and 'apply' will: field types, \
            addresses and prefixes, proposals (weak algorithms are refused unless \
            'allow-weak-crypto: true'), references between gateways and tunnels, overlapping inside \
            ranges, interface names and if_ids on every gateway. Every problem is reported, not just \
            the first, as FILE:LINE:COLUMN: error: message.

            With --node, also checks that the files that gateway needs (its certificate and key, the \
            CA certificates and CRLs) exist.

            EXAMPLES
              viaduct validate Topologies/dci-two-site.yaml
              viaduct validate site.yaml --node dc1
            """)

    @Argument(help: "The topology file (YAML).")
    var file: String

    @Option(help: "Also check the files this gateway needs.")
    var node: String?

    func run() throws {
        guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
        if let node {
            switch NodePlanner.plan(t, links: loaded.links, node: node, fileExists: FileManager.default.fileExists(atPath:)) {
            case .success: break
            case .failure(let e):
                Output.print(e.diagnostics)
                throw ExitCode(1)
            }
        }
        let managed = t.gateways.filter(\.managed).count
        print("\(file): valid: \(t.gateways.count) gateways (\(managed) managed), \(loaded.links.count) tunnel\(loaded.links.count == 1 ? "" : "s")")
    }
}
