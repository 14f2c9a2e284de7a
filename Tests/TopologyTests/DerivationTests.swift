import NetTypes
import Testing
@testable import Topology

@Suite("NodePlan derivation")
struct DerivationTests {
    @Test("both ends of every tunnel agree: names, if_ids, inside addresses, roles, underlay")
    func bothEndsAgree() throws {
        for file in topologyFiles("Topologies") {
            let l = try loadValid(readRepoFile(file), file: file)
            let t = try #require(l.topology)
            for link in l.links {
                let ends = [link.a, link.b].filter { n in t.gateway(named: n)?.managed == true }
                let plans = try ends.map { try plan(l, $0) }
                let tunnels = zip(ends, plans).map { end, p in p.tunnels.first { $0.peer == link.peer(of: end) } }
                #expect(tunnels.allSatisfy { $0 != nil })
                guard tunnels.count == 2, let x = tunnels[0], let y = tunnels[1] else { continue }
                #expect(x.interface.ifID == y.interface.ifID)
                #expect(x.interface.addresses.map(\.local) == y.interface.addresses.map(\.peer))
                #expect(x.interface.addresses.map(\.peer) == y.interface.addresses.map(\.local))
                #expect(Set([x.ike.role, y.ike.role]) == [.initiator, .responder], "exactly one end initiates")
                #expect(x.ike.localAddress == y.ike.peerAddress && x.ike.peerAddress == y.ike.localAddress)
                #expect(x.ike.localIdentity == y.ike.peerIdentity)
                #expect(x.interface.name == InterfaceNaming.name(forPeer: link.peer(of: ends[0])))
            }
        }
    }

    @Test("derivation is deterministic: two loads give equal plans")
    func deterministic() throws {
        let yaml = readRepoFile("Topologies/mesh-three-dc.yaml")
        let p1 = try plan(try loadValid(yaml), "dc2")
        let p2 = try plan(try loadValid(yaml), "dc2")
        #expect(p1 == p2)
        #expect(PlanRenderer.json(p1) == PlanRenderer.json(p2))
    }

    @Test("appending a gateway to a mesh changes no existing tunnel")
    func meshGrowthIsStable() throws {
        var names = (1...12).map { "g\($0)" }
        let before = try loadValid(meshYAML(names))
        names.append("g13")
        let after = try loadValid(meshYAML(names))
        #expect(after.links.count == before.links.count + 12)
        for old in before.links {
            let new = try #require(after.links.first { $0.key == old.key })
            #expect(new.inside == old.inside && new.ifID == old.ifID && new.initiator == old.initiator)
        }
        let oldPlan = try plan(before, "g5"), newPlan = try plan(after, "g5")
        for t in oldPlan.tunnels {
            #expect(newPlan.tunnels.contains(t), "tunnel to \(t.peer) changed")
        }
    }

    @Test("appending a spoke to a hub changes no existing tunnel")
    func hubGrowthIsStable() throws {
        func hub(_ spokes: [String]) -> String {
            var y = "version: 1\npki: { ca: ca.pem }\ngateways:\n  hq: { address: 203.0.113.1, certificate: a, key: b }\n"
            for (i, s) in spokes.enumerated() { y += "  \(s): { address: 192.0.2.\(i + 1), certificate: a, key: b }\n" }
            return y + "tunnels:\n  - hub: hq\n    spokes: [\(spokes.joined(separator: ", "))]\n    inside-pool: 169.254.200.0/24\n"
        }
        let a = try loadValid(hub(["s1", "s2", "s3"])), b = try loadValid(hub(["s1", "s2", "s3", "s4"]))
        for l in a.links { #expect(b.links.contains(l)) }
        #expect(b.links.allSatisfy { $0.initiator != "hq" }, "spokes initiate")
    }

    @Test("mesh inside prefixes never overlap and come from the pool")
    func meshAllocation() throws {
        let names = (1...30).map { "g\($0)" }
        let l = try loadValid(meshYAML(names, pool: "169.254.0.0/20"))
        #expect(l.links.count == 435)
        let prefixes = l.links.flatMap { $0.inside.map(\.prefix) }
        #expect(Set(prefixes).count == prefixes.count)
        let pool = try IPPrefix.parse("169.254.0.0/20").get()
        #expect(prefixes.allSatisfy { pool.contains($0.address) && $0.length == 30 })
        let sorted = prefixes.sorted()
        for (x, y) in zip(sorted, sorted.dropFirst()) { #expect(!x.overlaps(y)) }
    }

    @Test("the first gateway named gets the first host; /31 and /127 use both addresses")
    func insideHosts() throws {
        let p30 = try #require(InsideAssignment(prefix: try IPPrefix.parse("169.254.10.0/30").get()))
        #expect(p30.a.description == "169.254.10.1" && p30.b.description == "169.254.10.2")
        let p31 = try #require(InsideAssignment(prefix: try IPPrefix.parse("169.254.10.4/31").get()))
        #expect(p31.a.description == "169.254.10.4" && p31.b.description == "169.254.10.5")
        let p127 = try #require(InsideAssignment(prefix: try IPPrefix.parse("2001:db8::/127").get()))
        #expect(p127.a.description == "2001:db8::" && p127.b.description == "2001:db8::1")
        #expect(InsideAssignment(prefix: try IPPrefix.parse("169.254.10.1/32").get()) == nil)
    }

    @Test("interface names fit in 15 bytes, are stable and distinct for long similar peer names")
    func interfaceNames() {
        let peers = (0..<500).map { "branch-office-\($0)" } + ["a", "dc1", "exactly-twelve", "x-234567890123"]
        let names = peers.map(InterfaceNaming.name(forPeer:))
        #expect(names.allSatisfy { $0.utf8.count <= 15 && $0.hasPrefix("vd-") })
        #expect(Set(names).count == names.count)
        #expect(InterfaceNaming.name(forPeer: "dc1") == "vd-dc1")
        #expect(InterfaceNaming.name(forPeer: "twelve-chars") == "vd-twelve-chars", "15 bytes fit as they are")
        #expect(InterfaceNaming.name(forPeer: "thirteen-char").hasPrefix("vd-thirte-"), "16 bytes do not")
        // Pinned (values computed independently in Python): a change here renames interfaces
        // and changes if_ids on running gateways, which is a breaking change.
        #expect(InterfaceNaming.name(forPeer: "branch-office-1") == "vd-branch-nv3iz")
        #expect(TunnelLink.derivedIfID(pairKey: "dc1|dc2") == 2_110_451_161)
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test("if_ids are non-zero, 31-bit, and the same for either name order")
    func ifIDs() {
        #expect(TunnelLink.derivedIfID(pairKey: "a|b") == TunnelLink.derivedIfID(pairKey: "a|b"))
        for i in 0..<2000 {
            let id = TunnelLink.derivedIfID(pairKey: "g\(i)|h\(i)")
            #expect(id != 0 && id <= 0x7fff_ffff)
        }
    }

    @Test("initiator: explicit, else the managed end, else the smaller name")
    func initiatorRules() throws {
        let base = """
            version: 1
            pki: { ca: ca.pem }
            gateways:
              zeta: { address: 192.0.2.1, certificate: a, key: b }
              alpha: { address: 192.0.2.2, certificate: a, key: b }
              cloud: { address: 203.0.113.9, managed: false }
            tunnels:
              - between: [zeta, alpha]
                inside: 169.254.1.0/30
              - between: [cloud, alpha]
                inside: 169.254.2.0/30

            """
        let l = try loadValid(base)
        #expect(l.links.map(\.initiator) == ["alpha", "alpha"])
        let explicit = try loadValid(base.replacingOccurrences(of: "169.254.1.0/30", with: "169.254.1.0/30\n    initiator: zeta")
            .replacingOccurrences(of: "169.254.2.0/30", with: "169.254.2.0/30\n    initiator: cloud"))
        #expect(explicit.links.map(\.initiator) == ["zeta", "cloud"])
        let p = try plan(explicit, "alpha")
        #expect(p.tunnels.first { $0.peer == "cloud" }?.ike.role == .responder)
    }

    @Test("static routing routes the peer's networks through the interface; bgp installs none")
    func routes() throws {
        let l = try loadValid(readRepoFile("Topologies/hub-branches.yaml"))
        let hq = try plan(l, "hq")
        #expect(hq.tunnels.map { $0.routes.map(\.destination.description) } == [["198.18.21.0/24"], ["198.18.22.0/24"], ["198.18.23.0/24"]])
        #expect(hq.tunnels.allSatisfy { t in t.routes.allSatisfy { $0.interface == t.interface.name } })
        let branch = try plan(l, "branch-b")
        #expect(branch.tunnels.single?.routes.map(\.destination.description) == ["198.18.0.0/24", "198.18.10.0/24"])
        let dci = try plan(try loadValid(readRepoFile("Topologies/dci-two-site.yaml")), "dc1")
        #expect(dci.tunnels.single?.routes.isEmpty == true)
        #expect(dci.tunnels.single?.bgp == BGPNeighbor(localASN: 65001, peerASN: 65002,
            sessions: dci.tunnels[0].interface.addresses, peerNetworks: [try IPPrefix.parse("198.18.2.0/24").get()],
            bfd: BFDTimers()))
    }

    @Test("planning checks the node's files and refuses unknown or unmanaged nodes")
    func planRefusals() throws {
        let l = try loadValid(readRepoFile("Topologies/cloud-vpn-redundant.yaml"), file: "dir/cloud.yaml")
        let t = try #require(l.topology)
        let missing = NodePlanner.plan(t, links: l.links, node: "onprem", fileExists: { $0 != "dir/pki/onprem.key" })
        guard case .failure(let e) = missing else { Issue.record("planned without a key"); return }
        #expect(e.diagnostics.map(\.code) == [.missingFile])
        #expect(e.diagnostics[0].message.contains("dir/pki/onprem.key"))
        guard case .failure(let u) = NodePlanner.plan(t, links: l.links, node: "cloud-tun1", fileExists: { _ in true }) else { Issue.record(); return }
        #expect(u.diagnostics.map(\.code) == [.unmanagedNode])
        guard case .failure(let n) = NodePlanner.plan(t, links: l.links, node: "onprem2", fileExists: { _ in true }) else { Issue.record(); return }
        #expect(n.diagnostics.map(\.code) == [.unknownNode])
        #expect(n.diagnostics[0].message.contains("did you mean 'onprem'"))
    }
}

extension Array {
    var single: Element? { count == 1 ? first : nil }
}
