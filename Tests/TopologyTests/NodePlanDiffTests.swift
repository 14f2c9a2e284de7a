import Foundation
import Testing
@testable import Topology

/// `NodePlanDiff`: which tunnels an apply adds, removes, re-establishes, updates in place or
/// leaves alone; the contract that keeps untouched tunnels untouched.
struct NodePlanDiffTests {
    static func hub(_ spokes: [String], extra: String = "", espLifetime: String = "1h", route: String = "") -> String {
        var gws = "  hub: { address: 192.0.2.1, certificate: c, key: k, networks: [198.18.0.0/24] }\n"
        for (i, s) in spokes.enumerated() {
            gws += "  \(s): { address: 192.0.2.\(i + 10), certificate: c, key: k, networks: [198.18.\(i + 10).0/24\(route.isEmpty || i != 0 ? "" : ", " + route)] }\n"
        }
        return """
            version: 1
            pki: { ca: ca.pem }
            defaults:
              esp: { proposals: [aes256gcm16-x25519], lifetime: \(espLifetime) }
            gateways:
            \(gws)\(extra)
            tunnels:
              - hub: hub
                spokes: [\(spokes.joined(separator: ", "))]
                inside-pool: 169.254.10.0/24
            """
    }

    func hubPlan(_ yaml: String) throws -> NodePlan { try plan(try loadValid(yaml), "hub") }

    @Test func identicalPlansAreEmpty() throws {
        let p = try hubPlan(Self.hub(["a", "b"]))
        let d = NodePlanDiff.compute(from: p, to: p)
        #expect(d.isEmpty)
        #expect(d.peers(.unchanged) == ["a", "b"])
        #expect(d.rendered().hasSuffix("0 to add, 0 to remove, 0 to re-establish, 0 to update in place, 2 untouched"))
    }

    @Test func addingASpokeTouchesNoOtherTunnel() throws {
        let d = NodePlanDiff.compute(from: try hubPlan(Self.hub(["a", "b"])), to: try hubPlan(Self.hub(["a", "b", "c"])))
        #expect(d.peers(.add) == ["c"])
        #expect(d.peers(.unchanged) == ["a", "b"])
        #expect(d.restartRequired.isEmpty)
    }

    @Test func removingASpokeRemovesOnlyIt() throws {
        let d = NodePlanDiff.compute(from: try hubPlan(Self.hub(["a", "b", "c"])), to: try hubPlan(Self.hub(["a", "b"])))
        #expect(d.peers(.remove) == ["c"])
        #expect(d.peers(.unchanged) == ["a", "b"])
        #expect(d.rendered().contains("- c ("))
    }

    @Test func espChangeReestablishes() throws {
        let d = NodePlanDiff.compute(from: try hubPlan(Self.hub(["a"])), to: try hubPlan(Self.hub(["a"], espLifetime: "2h")))
        #expect(d.peers(.reestablish) == ["a"])
        #expect(d.tunnels.first?.reasons == ["ESP settings"])
    }

    @Test func routeChangeIsAnInPlaceUpdate() throws {
        let d = NodePlanDiff.compute(from: try hubPlan(Self.hub(["a"])), to: try hubPlan(Self.hub(["a"], route: "198.18.99.0/24")))
        #expect(d.peers(.update) == ["a"])
        #expect(d.tunnels.first?.reasons.first == "routes: +198.18.99.0/24")
    }

    @Test func anotherDataplaneNeedsARestart() throws {
        var p = try hubPlan(Self.hub(["a"]))
        var q = p
        q.dataplane = p.dataplane == .kernel ? .userspace : .kernel
        let d = NodePlanDiff.compute(from: p, to: q)
        #expect(d.restartRequired.count == 1)
        #expect(!d.isEmpty)
        p.node = "other"
        #expect(NodePlanDiff.compute(from: p, to: q).restartRequired.count == 2)
    }

    @Test func roundTripsThroughJSON() throws {
        let d = NodePlanDiff.compute(from: try hubPlan(Self.hub(["a", "b"])), to: try hubPlan(Self.hub(["b", "c"])))
        let data = try JSONEncoder().encode(d)
        #expect(try JSONDecoder().decode(NodePlanDiff.self, from: data) == d)
    }
}
