@testable import Daemon
import IKEv2
import Testing
import TestSupport

/// The daemon's side of RFC 3948 keepalives: the bytes on the wire (the endpoint's keepalives,
/// peer moves and fragment log are in IKEv2Tests' EndpointNATAndFragmentTests).
struct NATAndFragmentWiringTests {
    @Test("RFC 3948 §2.3: a keepalive leaves as the bare 0xFF octet, never behind a non-ESP marker")
    func keepaliveWireBytes() {
        let k = IKEDatagram.natKeepalive(from: IKEEndpoint(address: gwA, port: 4500), to: IKEEndpoint(address: gwB, port: 4500))
        #expect(IKESocketSet.wireBytes(k, ports: .standard) == [0xFF])
        // And the receiving side classifies exactly that as a keepalive.
        #expect(NonESPMarker.classify(IKESocketSet.wireBytes(k, ports: .standard)) == .keepalive)
    }
}
