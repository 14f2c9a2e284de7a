import Foundation
import KernelModel
import NetTypes
import Reconciler
import Testing
import Topology

let root: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

func nodePlan(_ yaml: String, _ node: String) throws -> NodePlan {
    let l = TopologyLoader.load(yaml: yaml, file: "t.yaml")
    guard l.isValid, let t = l.topology else { throw DiagnosticError(l.diagnostics) }
    return try NodePlanner.plan(t, links: l.links, node: node, fileExists: { _ in true }).get()
}

func example(_ name: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent("Topologies/\(name)"), encoding: .utf8)
}

func mesh(_ names: [String], mtu: Int = 1400) -> String {
    var y = "version: 1\npki: { ca: ca.pem }\ndefaults: { mtu: \(mtu) }\ngateways:\n"
    for (i, n) in names.enumerated() {
        y += "  \(n): { address: 192.0.2.\(i + 1), certificate: c, key: k, networks: [198.18.\(i).0/24] }\n"
    }
    return y + "tunnels:\n  - mesh: [\(names.joined(separator: ", "))]\n    inside-pool: 169.254.100.0/22\n"
}

/// Plans, applies to the simulator, and checks that a second plan is empty.
@discardableResult
func converge(_ kernel: inout KernelSimulator, _ desired: DesiredKernelState) throws -> [KernelChange] {
    let changes = Reconciler.plan(desired: desired, observed: kernel.state)
    try kernel.apply(changes)
    let again = Reconciler.plan(desired: desired, observed: kernel.state)
    #expect(again.isEmpty, "not idempotent: \(again)")
    return changes
}

@Suite("Reconciler: desired vs observed kernel state")
struct ReconcilerTests {
    @Test("from an empty kernel every example node converges, and a second plan is empty", arguments: [
        ("dci-two-site.yaml", "dc1"), ("mesh-three-dc.yaml", "dc2"), ("hub-branches.yaml", "hq"),
        ("hub-branches.yaml", "branch-c"), ("cloud-vpn-redundant.yaml", "onprem"), ("ipv6-underlay.yaml", "east"),
    ])
    func convergesFromEmpty(file: String, node: String) throws {
        let plan = try nodePlan(try example(file), node)
        var k = KernelSimulator()
        let changes = try converge(&k, DesiredKernelState(plan: plan))
        #expect(k.state.links.count == plan.tunnels.count)
        #expect(k.state.routes.count == plan.tunnels.reduce(0) { $0 + $1.routes.count })
        #expect(changes.allSatisfy { if case .deleteLink = $0 { false } else { true } })
        #expect(k.state.links.allSatisfy { $0.flags & 1 != 0 }, "all tunnels up")
    }

    @Test("route-based policies: out/in/fwd per inside family, bound by if_id, endpoints in the template")
    func policies() throws {
        let plan = try nodePlan(try example("ipv6-underlay.yaml"), "west")
        let d = DesiredKernelState(plan: plan)
        #expect(d.policies.count == 6)
        let out = try #require(d.policies.first { $0.direction == .outbound && $0.selector.family == .ipv4 })
        #expect(out.interfaceID == plan.tunnels[0].interface.ifID && out.mark == nil)
        #expect(out.templates.first?.source.description == "2001:db8:1::1" && out.templates.first?.destination.description == "2001:db8:2::1")
        let inbound = try #require(d.policies.first { $0.direction == .inbound && $0.selector.family == .ipv6 })
        #expect(inbound.templates.first?.source.description == "2001:db8:2::1")
        #expect(d.policies.allSatisfy(Ownership.owns))
    }

    @Test("objects Viaduct does not own are never touched")
    func foreignObjectsSurvive() throws {
        let plan = try nodePlan(try example("dci-two-site.yaml"), "dc1")
        let foreign = ObservedKernelState(
            links: [ObservedLink(index: 1, link: Link(name: "lo", kind: .other("")), flags: 1),
                    ObservedLink(index: 2, link: Link(name: "eth0", kind: .other("veth"), mtu: 1500), flags: 1),
                    ObservedLink(index: 3, link: Link(name: "ipsec0", kind: .tun), flags: 1),
                    ObservedLink(index: 4, link: Link(name: "vd-bridge", kind: .other("bridge")), flags: 1),
                    ObservedLink(index: 5, link: Link(name: "xfrm-sw", kind: .xfrm(ifID: 9, underlyingIndex: nil)), flags: 1)],
            addresses: [LinkAddress(address: IPAddress("192.0.2.1")!, prefixLength: 24, interfaceIndex: 2)],
            routes: [Route(destination: try IPPrefix.parse("198.18.9.0/24").get(), outputInterface: 2, protocolNumber: RouteProtocol.staticRoute, table: 254),
                     Route(destination: try IPPrefix.parse("198.18.2.0/24").get(), outputInterface: 3, protocolNumber: 186, table: 254)],
            policies: [XfrmPolicy(selector: .any(.ipv4), direction: .outbound, priority: 399_999, interfaceID: 9)])
        var k = KernelSimulator(foreign)
        let changes = try converge(&k, DesiredKernelState(plan: plan))
        for c in changes {
            switch c {
            case .deleteLink, .deleteRoute, .deleteAddress, .deletePolicy: Issue.record("touched a foreign object: \(c)")
            default: break
            }
        }
        #expect(k.state.links.count == 6 && k.state.routes.count == 2 && k.state.policies.count == 1 + 3)
        // Tearing everything down removes exactly Viaduct's objects.
        try k.apply(Reconciler.plan(desired: DesiredKernelState(), observed: k.state))
        #expect(k.state == foreign)
    }

    @Test("adding a gateway to a mesh touches nothing of the existing tunnels")
    func addGatewayIsAdditive() throws {
        var k = KernelSimulator()
        try converge(&k, DesiredKernelState(plan: try nodePlan(mesh(["a", "b", "c"]), "a")))
        let existing = Set(k.state.links.map(\.link.name))
        let changes = try converge(&k, DesiredKernelState(plan: try nodePlan(mesh(["a", "b", "c", "d"]), "a")))
        for c in changes {
            switch c {
            case .createLink(let l): #expect(l.name == "vd-d")
            case .addAddress(let a): #expect(a.interface == "vd-d")
            case .addRoute(let r): #expect(r.interface == "vd-d")
            case .setUp(let name, _): #expect(!existing.contains(name))
            case .addPolicy(let p):
                let ends = [p.templates.first?.source.description, p.templates.first?.destination.description]
                #expect(ends.contains("192.0.2.4"), "a policy of the new tunnel only")
            default: Issue.record("unexpected change to existing state: \(c)")
            }
        }
    }

    @Test("removing a gateway removes exactly its interface and policies")
    func removeGateway() throws {
        var k = KernelSimulator()
        try converge(&k, DesiredKernelState(plan: try nodePlan(mesh(["a", "b", "c", "d"]), "a")))
        let changes = try converge(&k, DesiredKernelState(plan: try nodePlan(mesh(["a", "b", "c"]), "a")))
        #expect(changes.filter { if case .deleteLink = $0 { true } else { false } } == [.deleteLink(name: "vd-d")])
        #expect(changes.allSatisfy {
            switch $0 {
            case .deleteLink, .deletePolicy: true
            default: false
            }
        })
        #expect(Set(k.state.links.map(\.link.name)) == ["vd-b", "vd-c"])
    }

    @Test("an MTU change is made in place; an if_id change replaces the interface")
    func inPlaceVersusReplace() throws {
        var k = KernelSimulator()
        try converge(&k, DesiredKernelState(plan: try nodePlan(mesh(["a", "b"]), "a")))
        let mtu = try converge(&k, DesiredKernelState(plan: try nodePlan(mesh(["a", "b"], mtu: 1380), "a")))
        #expect(mtu == [.setMTU(interface: "vd-b", mtu: 1380)])
        let yaml = mesh(["a", "b"]).replacingOccurrences(of: "  - mesh: [a, b]\n    inside-pool: 169.254.100.0/22\n",
                                                         with: "  - between: [a, b]\n    inside: 169.254.100.0/30\n    if-id: 4242\n")
        let replaced = try converge(&k, DesiredKernelState(plan: try nodePlan(yaml, "a")))
        #expect(replaced.contains(.deleteLink(name: "vd-b")))
        #expect(!replaced.contains { if case .setMTU = $0 { true } else { false } })
        #expect(replaced.contains(.createLink(DesiredLink(name: "vd-b", kind: .xfrm(ifID: 4242, underlyingIndex: nil), mtu: 1400, up: true))))
    }

    @Test("a tunnel marked down keeps its interface and addresses, goes down, and loses its static routes")
    func downTunnel() throws {
        let plan = try nodePlan(try example("hub-branches.yaml"), "hq")
        var k = KernelSimulator()
        try converge(&k, DesiredKernelState(plan: plan))
        let down = try converge(&k, DesiredKernelState(plan: plan, down: ["vd-branch-b"]))
        // Routes are withdrawn explicitly (the kernel does not flush every IPv6 route on link down).
        #expect(down == [.deleteRoute(destination: try IPPrefix.parse("198.18.22.0/24").get(), interface: "vd-branch-b"),
                         .setUp(interface: "vd-branch-b", up: false)])
        #expect(!k.state.routes.contains { $0.destination.description == "198.18.22.0/24" })
        let up = try converge(&k, DesiredKernelState(plan: plan))
        #expect(up == [.setUp(interface: "vd-branch-b", up: true),
                       .addRoute(DesiredRoute(destination: try IPPrefix.parse("198.18.22.0/24").get(), interface: "vd-branch-b"))])
    }

    @Test("stray state is repaired: a missing address, a wrong MTU, an extra route, a deleted policy")
    func repairsDrift() throws {
        let plan = try nodePlan(try example("hub-branches.yaml"), "branch-a")
        var k = KernelSimulator()
        try converge(&k, DesiredKernelState(plan: plan))
        let i = k.state.links[0].index
        k.state.addresses.removeAll()
        k.state.links[0].link.mtu = 9000
        k.state.routes.append(Route(destination: try IPPrefix.parse("198.18.99.0/24").get(), outputInterface: i, protocolNumber: RouteProtocol.viaduct, table: 254))
        k.state.policies.removeFirst()
        let changes = try converge(&k, DesiredKernelState(plan: plan))
        #expect(changes.count == 4, "\(changes)")
    }

    @Test("random sequences of topologies always converge in one step (seeded)")
    func randomWalk() throws {
        var state: UInt64 = 0x7e57_5eed
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let all = (0..<8).map { "g\($0)" }
        var k = KernelSimulator()
        for _ in 0..<60 {
            var members = ["g0"] + all.dropFirst().filter { _ in next() % 2 == 0 }
            if members.count < 2 { members.append("g7") }
            let mtu = [1400, 1380, 1420][Int(next() % 3)]
            let plan = try nodePlan(mesh(members, mtu: mtu), "g0")
            let downs = Set(plan.tunnels.map(\.interface.name).filter { _ in next() % 4 == 0 })
            try converge(&k, DesiredKernelState(plan: plan, down: downs))
            #expect(k.state.links.count == members.count - 1)
        }
    }
}

@Suite("Kernel state toward peers without a fixed address")
struct DynamicPeerKernelStateTests {
    @Test("no outbound policy toward an unknown address; the live address once known")
    func outboundPolicyFollowsLiveAddress() throws {
        let plan = try nodePlan(try example("dynamic-branches.yaml"), "hq")
        let ifID = try #require(plan.tunnels.first { $0.peer == "lte-1" }).interface.ifID
        func policies(_ d: DesiredKernelState) -> [XfrmPolicy] { d.policies.filter { $0.interfaceID == ifID } }
        let unknown = policies(DesiredKernelState(plan: plan))
        #expect(Set(unknown.map(\.direction)) == [.inbound, .forward])
        #expect(unknown.allSatisfy { $0.templates.first?.source == .unspecified(.ipv4) })
        let live = try #require(IPAddress("198.51.100.77"))
        let known = policies(DesiredKernelState(plan: plan, peerAddresses: ["lte-1": live]))
        #expect(Set(known.map(\.direction)) == [.outbound, .inbound, .forward])
        #expect(known.first { $0.direction == .outbound }?.templates.first?.destination == live)
        #expect(known.first { $0.direction == .inbound }?.templates.first?.source == live)
    }
}
