@testable import Daemon
import IKEv2
import NetTypes
import System
import Testing
import Topology

/// Peers known by DNS name and dynamic peers, as the daemon plans them (IKETunnelPeer+Plan.swift).
@Suite struct PeerNamesTests {
    static let yaml = """
    version: 1
    pki: { ca: ca.pem }
    gateways:
      hq: { address: 203.0.113.1, certificate: a.pem, key: a.key }
      east: { address: east.example.net, managed: false }
      west: { address: west.example.net, managed: false }
      lte: { address: dynamic, identity: lte.example.net, managed: false }
      dc: { address: 198.51.100.9, managed: false }
    tunnels:
      - between: [hq, east]
        inside: 169.254.10.0/30
      - between: [hq, west]
        inside: 169.254.11.0/30
        initiator: west
      - between: [hq, lte]
        inside: 169.254.12.0/30
      - between: [hq, dc]
        inside: 169.254.13.0/30
    """

    static func plan() throws -> NodePlan {
        let l = TopologyLoader.load(yaml: yaml, file: "t.yaml")
        let t = try #require(l.topology, "\(l.diagnostics)")
        return try NodePlanner.plan(t, links: l.links, node: "hq", fileExists: { _ in true }).get()
    }

    /// The plan leaves a named peer's address open (the daemon's resolver looks it up for each
    /// IKE SA, off the event loop: PeerNameResolver); it routes nothing until then.
    @Test func namedPeersKeepTheirAddressOpenInThePlan() throws {
        let plan = try Self.plan()
        let east = try #require(plan.tunnels.first { $0.peer == "east" })
        #expect(east.ike.peerUnderlay == .name("east.example.net"))
        #expect(east.ike.peerAddress == .unspecified(.ipv4))
        #expect(plan.tunnels.first { $0.peer == "dc" }?.ike.peerAddress == IPAddress("198.51.100.9"))
    }

    @Test func endpointPeers() throws {
        let plan = try Self.plan()
        func peer(_ name: String) throws -> IKETunnelPeer { IKETunnelPeer(tunnel: try #require(plan.tunnels.first { $0.peer == name })) }
        let east = try peer("east"), west = try peer("west"), lte = try peer("lte"), dc = try peer("dc")
        #expect(!east.dynamic && east.initiator && east.addresses.isEmpty)
        // west opens the tunnel to us and is known by name: told by its identity, from anywhere.
        #expect(west.dynamic && !west.initiator && west.addresses.isEmpty)
        #expect(lte.dynamic && !lte.initiator && lte.addresses.isEmpty)
        #expect(!dc.dynamic && dc.addresses == [[198, 51, 100, 9]])
    }

    @Test func theSystemResolverAnswersFromTheHostsFile() {
        // localhost is in every /etc/hosts (no DNS needed).
        #expect((try? NameResolution.addresses(of: "localhost", ipv6: false).get())?.contains([127, 0, 0, 1]) == true)
    }
}
