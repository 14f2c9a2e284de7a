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
