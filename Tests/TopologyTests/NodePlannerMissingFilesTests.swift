import Testing
import Topology

/// `viaduct plan` before the credentials exist: missing files are warnings with the plan; any
/// other error stays an error.
struct NodePlannerMissingFilesTests {
    static let yaml = """
        version: 1
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key, networks: [198.18.1.0/24] }
          b: { address: 192.0.2.2, certificate: b.pem, key: b.key, networks: [198.18.2.0/24] }
        tunnels:
          - between: [a, b]
            inside: 169.254.10.0/30
        """

    @Test func missingFilesAreWarningsWithThePlan() throws {
        let l = TopologyLoader.load(yaml: Self.yaml, file: "t.yaml")
        let t = try #require(l.topology)
        let (plan, warnings) = try NodePlanner.planWarningOfMissingFiles(t, links: l.links, node: "a", fileExists: { _ in false }).get()
        #expect(plan.node == "a" && plan.tunnels.count == 1)
        #expect(!warnings.isEmpty && warnings.allSatisfy { $0.severity == .warning && $0.code == .missingFile })
        #expect(warnings.allSatisfy { $0.message.contains("('viaduct run' and 'validate --node' refuse it)") }, "\(warnings)")
        let present = try NodePlanner.planWarningOfMissingFiles(t, links: l.links, node: "a", fileExists: { _ in true }).get()
        #expect(present.1.isEmpty)
        #expect(throws: DiagnosticError.self) {
            try NodePlanner.planWarningOfMissingFiles(t, links: l.links, node: "nobody", fileExists: { _ in false }).get()
        }
    }
}
