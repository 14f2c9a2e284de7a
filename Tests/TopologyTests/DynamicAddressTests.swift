import NetTypes
import Testing
@testable import Topology

@Suite("address: dynamic and DNS names")
struct DynamicAddressTests {
    let yaml = readRepoFile("Topologies/dynamic-branches.yaml")

    @Test("a dynamic gateway has no address, must initiate, and plans with the unspecified address")
    func dynamicEnd() throws {
        let l = try loadValid(yaml)
        let t = try #require(l.topology)
        #expect(t.gateway(named: "lte-1")?.underlay == .dynamic)
        #expect(t.gateway(named: "lte-1")?.addresses == [])
        #expect(t.gateway(named: "hq")?.underlay == .name("hq.example.net"))
        #expect(t.gateway(named: "hq")?.identity == .fqdn("hq.example.net"), "a named gateway's default identity is its name")
        let spoke = try plan(l, "lte-1")
        let tunnel = try #require(spoke.tunnels.first)
        #expect(spoke.underlay == .dynamic)
        #expect(tunnel.ike.role == .initiator)
        #expect(tunnel.ike.localUnderlay == .dynamic && tunnel.ike.peerUnderlay == .name("hq.example.net"))
        #expect(tunnel.ike.localAddress == .unspecified(.ipv4) && tunnel.ike.peerAddress == .unspecified(.ipv4))
        let hub = try plan(l, "hq")
        let toSpoke = try #require(hub.tunnels.first { $0.peer == "lte-2" })
        #expect(toSpoke.ike.role == .responder)
        #expect(toSpoke.ike.peerUnderlay == .dynamic)
        // The named hub reaches the fixed datacenter with the datacenter's family.
        let toDC = try #require(hub.tunnels.first { $0.peer == "dc" })
        #expect(toDC.ike.role == .initiator)
        #expect(toDC.ike.peerAddress == IPAddress("203.0.113.5"))
    }

    @Test("a dynamic end initiates even where the smaller name or the hub would")
    func dynamicInitiates() throws {
        let l = try loadValid("""
        version: 1
        pki: { ca: ca.pem }
        gateways:
          a: { address: dynamic, identity: a.example.net, certificate: a.pem, key: a.key }
          b: { address: 192.0.2.2, certificate: b.pem, key: b.key }
          c: { address: 192.0.2.3, certificate: c.pem, key: c.key }
        tunnels:
          - hub: a
            spokes: [b, c]
            inside-pool: 169.254.20.0/24
        """)
        #expect(l.links.map(\.initiator) == ["a", "a"])
    }

    @Test("plan shows the name and 'dynamic', in text and JSON")
    func planShowsThem() throws {
        let l = try loadValid(yaml)
        let spoke = try plan(l, "lte-1")
        let text = PlanRenderer.table(spoke)
        #expect(text.contains("underlay dynamic"))
        #expect(text.contains("IKE dynamic (any IPv4) -> hq.example.net (IPv4)"))
        let json = PlanRenderer.json(spoke)
        #expect(json.contains(#""local_underlay" : "dynamic""#))
        #expect(json.contains(#""peer_underlay" : "hq.example.net""#))
        #expect(json.contains(#""underlay" : "dynamic""#))
        let dc = PlanRenderer.json(try plan(l, "dc"))
        #expect(dc.contains(#""local_underlay" : "fixed""#))
    }

    @Test("DNS names: syntax", arguments: [
        ("hq.example.net", true), ("a-1.b.example", true), ("HQ.Example.NET", true),
        ("gateway", false), ("192.0.2.300", false), ("gw_1.example.net", false), ("-a.example.net", false),
        ("a..example.net", false), ("example.123", false),
    ])
    func dnsNameSyntax(text: String, valid: Bool) {
        #expect(UnderlayKind.isDNSName(text) == valid)
    }
}

@Suite("address: dynamic and DNS names in the graph")
struct DynamicAddressGraphTests {
    @Test("the graph labels a gateway 'dynamic' or with its name instead of an address")
    func graphLabels() throws {
        let l = try loadValid(readRepoFile("Topologies/dynamic-branches.yaml"))
        let dot = TopologyGraph.dot(topology: try #require(l.topology), links: l.links)
        #expect(dot.contains("hq.example.net") && dot.contains("dynamic"))
    }
}
