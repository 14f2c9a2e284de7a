import Foundation
@testable import Topology

/// The repository root, found from this file's path, so tests read the real Topologies/.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

func topologyFiles(_ dir: String) -> [String] {
    let path = repositoryRoot.appendingPathComponent(dir).path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(dir)/\($0)" }
}

func readRepoFile(_ relative: String) -> String {
    (try? String(contentsOf: repositoryRoot.appendingPathComponent(relative), encoding: .utf8)) ?? ""
}

/// Loads YAML text and fails loudly if it is not valid.
func loadValid(_ yaml: String, file: String = "test.yaml") throws -> LoadedTopology {
    let l = TopologyLoader.load(yaml: yaml, file: file)
    guard l.isValid else { throw DiagnosticError(l.diagnostics) }
    return l
}

func plan(_ l: LoadedTopology, _ node: String) throws -> NodePlan {
    guard let t = l.topology else { throw DiagnosticError(l.diagnostics) }
    return try NodePlanner.plan(t, links: l.links, node: node, fileExists: { _ in true }).get()
}

/// A mesh of `n` gateways named g1...gn, in that order.
func meshYAML(_ names: [String], pool: String = "169.254.100.0/22") -> String {
    var y = "version: 1\npki: { ca: ca.pem }\ngateways:\n"
    for (i, n) in names.enumerated() {
        y += "  \(n): { address: 192.0.2.\(i + 1), certificate: \(n).pem, key: \(n).key, asn: \(65001 + i), networks: [198.18.\(i).0/24] }\n"
    }
    y += "tunnels:\n  - mesh: [\(names.joined(separator: ", "))]\n    inside-pool: \(pool)\n    routing: bgp\n"
    return y
}
