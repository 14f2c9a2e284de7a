import CryptoCore
@testable import Dataplane
import Glibc
import IKEv2
import Testing

/// `updatePeerEndpoint` end to end (its refusals: DataplaneTests/PeerEndpointUpdateTests.swift): the
/// tunnel breaks when A sends to a port where B does not listen, and works again once A is pointed back at B's real endpoint, without reinstalling anything.
@Suite(.enabled(if: TunnelLab.canRun, TunnelLab.skipMessage))
struct PeerEndpointUpdateTunnelTests {
    @Test("ESP follows updatePeerEndpoint: a wrong port loses the traffic, the right one restores it")
    func follow() throws {
        let lab = TunnelLab(tag: "move")
        defer { lab.tearDown() }
        try lab.build()
        try lab.startGateways()
        try lab.installBoth(generation: 1)
        #expect(try lab.ping(from: lab.hostA, "198.18.2.10", count: 2) == (2, 2))
        let plane = try #require(lab.planeA)
        try plane.updatePeerEndpoint(IKEEndpoint(address: TunnelLab.endpointB.address, port: 4999), peer: "peer")
        #expect(try lab.ping(from: lab.hostA, "198.18.2.10", count: 2).1 == 0)
        try plane.updatePeerEndpoint(TunnelLab.endpointB, peer: "peer")
        #expect(try lab.ping(from: lab.hostA, "198.18.2.10", count: 2) == (2, 2))
    }
}
