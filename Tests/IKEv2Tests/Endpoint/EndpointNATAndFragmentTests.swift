@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// The endpoint's side of RFC 3948 keepalives, RFC 7296 §2.23 peer moves and RFC 7383 fragment
/// logging, and RFC 7296 §3.1 header peeking, with scripted sessions.
struct EndpointNATAndFragmentTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    @Test("Keepalives a session sends are counted, not learned as IKE; a peer move is a followPeerEndpoint action for its Child SAs")
    func keepaliveAndMove() throws {
        let factory = FakeFactory()
        let core = EndpointProbe.withPeerB(factory, initiator: true)
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
        #expect(core.follows.map(\.0) == [0x1111, 0x2222])
        #expect(core.follows.allSatisfy { $0.1 == moved && $0.2 == TunnelID(peer: "gw-b") })
        #expect(core.logged("peer address changed"))
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

    @Test func headerPeekReadsSPIsAndFlags() throws {
        let m = ikeMessage(spiI: 0x0102030405060708, spiR: 0x1112131415161718, exchange: 35, initiator: true, response: false)
        let r = try IKEHeader(decoding: m)
        #expect(r.initiatorSPI == IKESPI(0x0102030405060708))
        #expect(r.responderSPI == IKESPI(0x1112131415161718))
        #expect(r.receiverSPI == IKESPI(0x1112131415161718))
        #expect(r.senderSPI == IKESPI(0x0102030405060708))
        #expect(!r.isNewSARequest)
        #expect(try IKEHeader(decoding: ikeMessage(spiI: 5, spiR: 0, initiator: true, response: false)).isNewSARequest)
        // Every truncation of the header is refused, never read past the end.
        for n in 0..<28 { #expect((try? IKEHeader(decoding: Array(m.prefix(n)))) == nil) }
        // IKEv1 is not routed: the endpoint drops it as malformed.
        var v1 = m
        v1[17] = 0x10
        let endpoint = IKESAManager(factory: FakeFactory())
        endpoint.receive(IKEDatagram(bytes: v1, source: IKEEndpoint(address: gwB, port: 500),
                                     destination: IKEEndpoint(address: gwA, port: 500)), now: IKEInstant(nanoseconds: 0))
        #expect(endpoint.counters.malformed == 1)
    }
}
