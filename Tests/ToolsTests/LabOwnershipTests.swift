@testable import Daemon
import Foundation
import Glibc
import Testing
@testable import Tools
import Topology

/// Which namespaces a lab owns (its `lab.state`), what `lab up` refuses and what `lab down`
/// removes.
@Suite struct LabOwnershipTests {
    /// A topology of `gateways` on documentation addresses (192.0.2.N), one site network each.
    static func lab(_ name: String, _ gateways: [String]) throws -> LabPlan {
        let lines = gateways.enumerated().map { i, g in
            "  \(g): { address: 192.0.2.\(i + 1), certificate: c, key: k, networks: [198.18.\(i + 1).0/24] }"
        }
        let yaml = "version: 1\npki: { ca: ca.pem }\ngateways:\n" + lines.joined(separator: "\n")
            + "\ntunnels:\n  - mesh: [\(gateways.joined(separator: ", "))]\n    inside-pool: 169.254.100.0/24\n"
        let loaded = TopologyLoader.load(yaml: yaml, file: "\(name).yaml")
        let t = try #require(loaded.topology, "\(loaded.diagnostics)")
        return try LabPlan.make(t, name: name, plans: [:]).get()
    }

    /// The state `lab up` leaves for `plan`, started from `file`.
    static func state(of plan: LabPlan, file: String) -> LabState {
        LabState.parse("file \(file)\n" + plan.namespaces.map { "netns \($0)\n" }.joined() + "pid 4242 viaduct dc1\n")
    }

    @Test func labsWithDifferentGatewaysShareNoNamespace() throws {
        let a = try Self.lab("dci", ["dc1", "dc2"]), b = try Self.lab("branches", ["hq", "branch1"])
        #expect(Set(a.namespaces).isDisjoint(with: b.namespaces), "\(a.namespaces) \(b.namespaces)")
        #expect(a.namespaces == ["vdl-wan-dci", "vdl-dc1", "vdl-dc1-host", "vdl-dc2", "vdl-dc2-host"])
        #expect(a.buildCommands().first == ["ip", "netns", "add", "vdl-wan-dci"])
    }

    @Test func upRefusesTheNamespacesOfAnotherLabNamingItsFileAndHowToTakeItDown() throws {
        let running = try Self.lab("dci-two-site", ["dc1", "dc2"])
        let second = try Self.lab("mesh-three-dc", ["dc1", "dc2", "dc3"])
        let file = "/srv/lab/Topologies/dci-two-site.yaml"
        let others = ["dci-two-site": Self.state(of: running, file: file)]
        let result = second.claim(existing: Set(running.namespaces), own: nil, others: others)
        guard case .failure(let e) = result else { Issue.record("a second lab took over dci-two-site's namespaces"); return }
        #expect(e.code == .conflict)
        #expect(e.message.contains("vdl-dc1, vdl-dc1-host, vdl-dc2, vdl-dc2-host belong to the lab 'dci-two-site' (\(file))"), "\(e.message)")
        #expect(e.message.contains("take that lab down first: viaduct lab down \(file)"), "\(e.message)")
        #expect(!e.message.contains("vdl-dc3"))
        // Run under another name, the way down needs that name.
        let renamed = ["dci": Self.state(of: running, file: file)]
        guard case .failure(let e2) = second.claim(existing: Set(running.namespaces), own: nil, others: renamed) else {
            Issue.record("taken over"); return
        }
        #expect(e2.message.contains("viaduct lab down \(file) --name dci"), "\(e2.message)")
    }

    @Test func upAgainOnTheSameLabIsItsOwnAndALabBesideItIsFine() throws {
        let running = try Self.lab("dci-two-site", ["dc1", "dc2"])
        let own = Self.state(of: running, file: "/x/dci-two-site.yaml")
        // The same lab grown by a gateway: its namespaces are its own, dc3's are free.
        let grown = try Self.lab("dci-two-site", ["dc1", "dc2", "dc3"])
        #expect(throws: Never.self) { try grown.claim(existing: Set(running.namespaces), own: own, others: [:]).get() }
        // Another lab with other gateway names, while dci-two-site is up.
        let other = try Self.lab("branches", ["hq", "branch1"])
        #expect(throws: Never.self) {
            try other.claim(existing: Set(running.namespaces), own: nil, others: ["dci-two-site": own]).get()
        }
    }

    @Test func upRefusesANamespaceNoLabRecorded() throws {
        let plan = try Self.lab("dci-two-site", ["dc1", "dc2"])
        guard case .failure(let e) = plan.claim(existing: ["vdl-dc2", "unrelated"], own: nil, others: [:]) else {
            Issue.record("built over a namespace made by hand"); return
        }
        #expect(e.code == .conflict && e.message.contains("namespace vdl-dc2 exists but no lab recorded it"))
        #expect(e.message.contains("ip netns del vdl-dc2") && !e.message.contains("unrelated"))
    }

    @Test func downRemovesOnlyWhatItsStateRecordsAndNeverAnotherLabs() throws {
        let plan = try Self.lab("mesh", ["dc1", "dc2", "dc3"])
        // This lab's state records only dc3 (say, its up was refused half way in an older
        // version); another lab records dc1 and dc2.
        let own = LabState.parse("file /x/mesh.yaml\nnetns vdl-wan-mesh\nnetns vdl-dc3\nnetns vdl-dc3-host\nnetns vdl-dc1\n")
        let other = LabState.parse("netns vdl-wan-dci\nnetns vdl-dc1\nnetns vdl-dc1-host\nnetns vdl-dc2\nnetns vdl-dc2-host\n")
        let (remove, shared) = LabPlan.removable(own: own, others: ["dci": other])
        #expect(remove == ["vdl-dc3-host", "vdl-dc3", "vdl-wan-mesh"])
        #expect(shared.map(\.namespace) == ["vdl-dc1"] && shared.map(\.lab) == ["dci"])
        #expect(!remove.contains("vdl-dc2") && plan.namespaces.contains("vdl-dc2"))
    }

    @Test func aRemovedGatewayIsForgottenWholeSoItsNamesAreFreeForOthers() {
        let text = "file /x/a.yaml\nnetns vdl-wan-a\nnetns vdl-dc1\nnetns vdl-dc1-host\nnetns vdl-dc10\npid 7 bird dc1\npid 8 viaduct dc1\npid 9 viaduct dc10\n"
        let s = LabState.parse(LabState.forgetting(gateway: "dc1", in: text))
        #expect(s.namespaces == ["vdl-wan-a", "vdl-dc10"])
        #expect(s.pids.map(\.pid) == [9] && s.file == "/x/a.yaml")
    }

    @Test func stateRecordsTheFileEvenWithSpaces() {
        let s = LabState.parse("file /x/my labs/a.yaml\nnetns vdl-a\nfile /y/a.yaml\n")
        #expect(s.file == "/y/a.yaml" && s.namespaces == ["vdl-a"])
        #expect(LabPlan.downCommand(file: "/x/my labs/a.yaml", name: "a") == "viaduct lab down '/x/my labs/a.yaml'")
        #expect(LabPlan.defaultName(file: "Topologies/dci-two-site.yaml") == "dci-two-site")
    }

    @Test func gatewayNamesThatWouldShareANamespaceAreRefused() throws {
        #expect(throws: LabError.self) { _ = try Self.lab("x", ["dc1", "dc1-host"]) }
        #expect(throws: LabError.self) { _ = try Self.lab("x", ["dc1", "wan-x"]) }
    }
}
