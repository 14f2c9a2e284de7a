import CryptoCore
@testable import Daemon
@testable import IKEv2
import DataplaneContract
import NetTypes
import Testing
import Topology

/// The daemon's side of RFC 3948 keepalives, RFC 7296 §2.23 peer moves and RFC 7383 fragment
/// logging, with scripted sessions.
struct NATAndFragmentWiringTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    /// Records `updatePeerEndpoint` calls as well.
    final class MovingDataplane: DataplaneBackend {
        let name = "moving"
        var moves: [(ESPSPI, IKEEndpoint, String)] = []
        func install(_ sa: ChildSAParameters, peer: String) throws(DataplaneError) {}
        func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) {}
        func counters(inboundSPI: ESPSPI) -> ChildSACounters? { nil }
        func update(plan: NodePlan) throws(DataplaneError) {}
        func updatePeerEndpoint(inboundSPI: ESPSPI, peerEndpoint: IKEEndpoint, peer: String) throws(DataplaneError) {
            moves.append((inboundSPI, peerEndpoint, peer))
        }
    }

    @Test("RFC 3948 §2.3: a keepalive leaves as the bare 0xFF octet, never behind a non-ESP marker")
    func keepaliveWireBytes() {
        let k = IKEDatagram.natKeepalive(from: IKEEndpoint(address: gwA, port: 4500), to: IKEEndpoint(address: gwB, port: 4500))
        #expect(IKESocketSet.wireBytes(k, ports: .standard) == [0xFF])
        // And the receiving side classifies exactly that as a keepalive.
        #expect(NonESPMarker.classify(IKESocketSet.wireBytes(k, ports: .standard)) == .keepalive)
    }

    @Test("Keepalives a session sends are counted, not learned as IKE; a peer move reaches the data plane per Child SA")
    func keepaliveAndMove() throws {
        let factory = FakeFactory()
        let dp = MovingDataplane()
        let capture = LogCapture()
        let core = EndpointDriver(factory: factory, dataplane: dp, logger: capture.logger(), reinitiateDelaySeconds: 10)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: IKEEndpoint(address: gwA, port: 500),
                                  remote: IKEEndpoint(address: gwB, port: 500), initiator: true))
        core.start(now: t0)
        _ = core.takeOutgoing()
        let s = try #require(factory.made.first)
        s.transmit.append(.natKeepalive(from: IKEEndpoint(address: gwA, port: 4500), to: IKEEndpoint(address: gwB, port: 4500)))
        let moved = IKEEndpoint(address: gwB, port: 47000)
        s.events.append(.peerEndpointChanged(previous: IKEEndpoint(address: gwB, port: 4500), peer: moved, inboundSPIs: [0x1111, 0x2222]))
        s.nextDeadline = t0
        core.fireTimers(now: t0)
        let out = core.takeOutgoing()
        #expect(out.count == 1 && out.first?.isNATKeepalive == true)
        #expect(core.counters.natKeepalivesSent == 1)
        #expect(dp.moves.map(\.0) == [0x1111, 0x2222])
        #expect(dp.moves.allSatisfy { $0.1 == moved && $0.2 == "gw-b" })
        #expect(capture.text.contains("peer address changed"))
    }

    @Test("RFC 7383: SKF fragments in and out are logged with their numbers; other IKE is not")
    func fragmentLog() {
        var skf = ikeMessage(spiI: 1, spiR: 2, exchange: 35, initiator: true, response: false, messageID: 1,
                             extra: [0x25, 0, 0, 12, 0, 2, 0, 3, 9, 9, 9, 9])
        skf[16] = 53
        #expect(IKEFragmentLog.fragment(skf)?.number == 2)
        #expect(IKEFragmentLog.fragment(skf)?.total == 3)
        var sk = skf
        sk[16] = 46
        #expect(IKEFragmentLog.fragment(sk) == nil)
        #expect(IKEFragmentLog.fragment(Array(skf.prefix(30))) == nil)
        let record = IKEFragmentLog.received(IKEDatagram(bytes: skf, source: IKEEndpoint(address: gwB, port: 4500),
                                                         destination: IKEEndpoint(address: gwA, port: 4500)))
        #expect(record?.message == "IKE fragment received")
        #expect(record?.metadata["fragment"] == "2/3")
    }
}
