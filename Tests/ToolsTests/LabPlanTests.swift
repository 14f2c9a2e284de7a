import TestSupport
import Testing
@testable import Tools
import Topology

/// The namespace lab's plan: what `viaduct lab up` builds for a topology.
@Suite struct LabPlanTests {
    static let topology = Fixture.twoGatewaysAndCloudTopology

    @Test func labPlanBuildsManagedGatewaysOnDocumentationAddressesOnly() throws {
        let l = TopologyLoader.load(yaml: Self.topology, file: "lab-test.yaml")
        let t = try #require(l.topology)
        let plan = try NodePlanner.plan(t, links: l.links, node: "a", fileExists: { _ in true }).get()
        let planB = try NodePlanner.plan(t, links: l.links, node: "b", fileExists: { _ in true }).get()
        let lab = try LabPlan.make(t, name: "lab-test", plans: ["a": plan, "b": planB]).get()
        #expect(lab.nodes.map(\.name) == ["a", "b"])
        #expect(lab.notes.contains { $0.hasPrefix("c is not managed") })
        #expect(lab.namespaces == ["vdl-wan-lab-test", "vdl-a", "vdl-a-host", "vdl-b", "vdl-b-host"])
        let a = lab.nodes[0]
        #expect(a.lans.map { "\($0.gatewayAddress) \($0.hostAddress)" } == ["198.18.1.1 198.18.1.10"] && a.bgp && a.routerID.map { "\($0)" } == "192.0.2.1")
        let cmds = lab.buildCommands()
        #expect(cmds.contains(["ip", "-n", "vdl-a", "route", "add", "198.51.100.1/32", "dev", "wan0"]))
        // Every address the lab configures is in a documentation or benchmarking range.
        let allowed = ["192.0.2.", "198.51.100.", "203.0.113.", "198.18.", "198.19."]
        for c in cmds where c.contains("addr") || c.contains("route") {
            guard let a = c.first(where: { $0.contains(".") && $0.first?.isNumber == true }) else { continue }
            #expect(allowed.contains { a.hasPrefix($0) }, "\(c)")
        }
        let conf = lab.birdConfig(for: a, bgpInclude: "/x/a.conf")
        #expect(conf.contains("router id 192.0.2.1;") && conf.contains("include \"/x/a.conf\";") && conf.contains("interface \"lan0\""))
    }

    /// What `lab up` and `lab status` print for a lab whose daemons do not answer (here: no
    /// lab at all, so nothing is touched).
    @Test func summaryAndStatusNameEveryGatewayWithoutADaemon() throws {
        let l = TopologyLoader.load(yaml: Self.topology, file: "lab-test.yaml")
        let t = try #require(l.topology)
        let plans = LabRunner.plans(t, links: l.links)
        #expect(plans.keys.sorted() == ["a", "b"])
        let lab = try LabPlan.make(t, name: "lab-test", plans: plans).get()
        let dir = "/nonexistent/viaduct-lab-test"
        let runner = LabRunner(plan: lab, plans: plans, dir: dir, viaduct: "viaduct")
        #expect(!runner.isUpAndWhole() && runner.startedGateways().isEmpty)
        let summary = runner.summary(file: "lab-test.yaml")
        #expect(summary.first == "note: c is not managed by Viaduct (managed: false): not built; its tunnels stay down")
        #expect(summary.contains("lab lab-test is up in \(dir):"))
        #expect(summary.contains("  a: namespace vdl-a, 0/0 tunnels up, host vdl-a-host (198.18.1.10), BIRD"))
        #expect(summary.contains("  ip netns exec vdl-a-host ping -c 3 198.18.2.10      # a's host to b's, through the tunnel"))
        #expect(summary.last == "  viaduct lab down lab-test.yaml")
        let status = runner.statusReport()
        #expect(status.hasPrefix("== a (namespace vdl-a)\n  the daemon is not answering on \(dir)/a.sock: "))
        #expect(status.contains("\nBIRD:\n(BIRD is not answering on \(dir)/a.bird.ctl)\n"))
    }
}
