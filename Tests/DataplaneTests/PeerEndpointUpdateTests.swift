import CryptoCore
@testable import Dataplane
import DataplaneContract
import Glibc
import IKEv2
import System
import Testing

/// RFC 7296 §2.23 / RFC 3948: when the peer's NAT mapping moves, `updatePeerEndpoint` sends
/// every SA of the peer to the new destination.
struct PeerEndpointUpdateTests {
    @Test("updatePeerEndpoint refuses an unknown peer and another address family")
    func refusals() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        let plane = try UserspaceDataplane(socket: ESPSocket(adopting: FileDescriptor(taking: fd), local: IKEEndpoint(address: [192, 0, 2, 1], port: 4500)))
        func code(_ e: IKEEndpoint, _ peer: String) -> DataplaneError.Code? {
            do { try plane.updatePeerEndpoint(e, peer: peer); return nil } catch { return error.code }
        }
        #expect(code(IKEEndpoint(address: [198, 51, 100, 9], port: 40000), "p") == .unknownPeer)
        #expect(code(IKEEndpoint(address: [UInt8](repeating: 0x20, count: 16), port: 4500), "p") == .unsupportedSA)
    }
}

/// The same end to end: the tunnel breaks when A sends to a port where B does not listen, and
/// works again once A is pointed back at B's real endpoint, without reinstalling anything.
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
