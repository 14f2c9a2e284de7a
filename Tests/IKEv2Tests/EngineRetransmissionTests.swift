import ViaductCrypto
import CryptoCore
import IKEv2
import Testing

/// RFC 7296 §2.1–§2.3: message IDs, window size 1, retransmission, and the response cache.
struct EngineRetransmissionTests {
    @Test("A retransmitted request is answered from the cache, byte for byte, and never processed twice")
    func cachedResponse() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        net.run()
        #expect(net.responder.state == .established)
        let spiR = net.responder.responderSPI
        // wire: [0] SA_INIT req, [1] SA_INIT resp, [2] AUTH req, [3] AUTH resp
        net.deliver(net.wire[2])
        #expect(net.wire.count == 5 && net.wire[4].bytes == net.wire[3].bytes)
        net.deliver(net.wire[0])  // an old IKE_SA_INIT: its message ID is past, dropped
        #expect(net.wire.count == 5)
        #expect(net.responderEvents.compactMap(\.child).count == 1)
        #expect(net.responderEvents.filter(\.isEstablished).count == 1)
        #expect(net.responder.responderSPI == spiR)
    }

    @Test("IKE_SA_INIT retransmission gets the same response (same SPIr, nonce, KE)")
    func initRetransmission() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        net.initiator.start(now: net.now)
        net.drain()
        let request = net.wire[0]
        net.deliver(request)
        net.deliver(request)
        #expect(net.wire.count == 3 && net.wire[1].bytes == net.wire[2].bytes)
    }

    @Test("Lost IKE_AUTH response: the initiator retransmits, the responder answers from its cache")
    func lostAuthResponse() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        var dropped = false
        net.blackhole = { d in
            guard !dropped, d.source == SimulationSetup.gw2, (try? IKEHeader(decoding: d.bytes))?.exchangeType == .ikeAuth else { return false }
            dropped = true
            return true
        }
        net.run()
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.responderEvents.compactMap(\.child).count == 1)
        #expect(net.wire.count == 6)
        #expect(net.wire[3].bytes == net.wire[5].bytes)
    }

    @Test("A forged IKE_AUTH response (bad ICV) is dropped and the exchange still completes",
          arguments: [Proposals.gcm256, Proposals.cbc256modp3072])
    func forgedResponseDropped(_ ike: IKEAlgorithmSet) throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: ike, esp: Proposals.espGCM256)
        let net = try setup.network()
        var tampered = false
        net.blackhole = { d in
            guard !tampered, d.source == SimulationSetup.gw2, (try? IKEHeader(decoding: d.bytes))?.exchangeType == .ikeAuth else { return false }
            tampered = true
            var forged = d
            forged.bytes[forged.bytes.count - 1] ^= 0x01
            net.initiator.receive(forged, now: net.now)
            return true
        }
        net.run()
        #expect(tampered)
        #expect(net.initiator.state == .established)
    }

    @Test("Establishment under 30% loss plus duplication and reordering", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func lossyNetwork(_ seed: UInt64) throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm128x25519, esp: Proposals.espGCM128)
        setup.retransmission = IKERetransmissionPolicy(timeout: 1, base: 1.5, tries: 10, jitter: 0.2)
        setup.halfOpenTimeout = 600
        let net = try setup.network(seed: seed, impairmentSeed: seed * 7919,
                                    impairment: .init(loss: 0.3, duplication: 0.2, maxDelay: 0.3))
        net.run()
        #expect(net.initiator.state == .established)
        #expect(net.responder.state == .established)
        let a = try #require(net.initiatorEvents.compactMap(\.child).first)
        let b = try #require(net.responderEvents.compactMap(\.child).first)
        #expect(a.inboundSPI == b.outboundSPI && a.outboundSPI == b.inboundSPI)
        #expect(bytes(a.inboundEncryptionKey) == bytes(b.outboundEncryptionKey))
        // Duplicates and retransmissions never produce a second SA.
        #expect(net.responderEvents.compactMap(\.child).count == 1)
        #expect(net.initiatorEvents.compactMap(\.child).count == 1)
    }
}
