import ViaductCrypto
import CryptoCore
@testable import IKEv2
import PKI
import Testing

/// RFC 9370 multiple key exchanges over RFC 9242 IKE_INTERMEDIATE, between two engines:
///   HDR, SAi1(.. KE1, KE2 ..), KEi, Ni, N(INTERMEDIATE_EXCHANGE_SUPPORTED)  -->
///                                  <--  HDR, SAr1, KEr, Nr, N(INTERMEDIATE_EXCHANGE_SUPPORTED)
///   HDR(IKE_INTERMEDIATE, 1), SK {KEi(1)}  -->   <--  HDR(IKE_INTERMEDIATE, 1), SK {KEr(1)}
///   HDR(IKE_INTERMEDIATE, 2), SK {KEi(2)}  -->   <--  HDR(IKE_INTERMEDIATE, 2), SK {KEr(2)}
///   HDR(IKE_AUTH, 3), SK {IDi, AUTH, SAi2, TSi, TSr}  -->   <--  HDR(IKE_AUTH, 3), SK {IDr, AUTH, SAr2, TSi, TSr}
struct EngineIntermediateTests {
    /// x25519, then ML-KEM-1024 (its 1,568-byte KE needs IKE fragmentation inside IKE_INTERMEDIATE) and ECP-384.
    static let hybrid = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.curve25519],
                                        additional: [IKEAdditionalKeyExchange(index: 1, groups: [.mlkem1024]),
                                                     IKEAdditionalKeyExchange(index: 2, groups: [.ecp384])])
    static let plain = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.curve25519])

    /// The messages on the wire as (exchange, message ID, response), a fragmented one once.
    static func exchanges(_ net: SimulationNetwork) -> [(IKEExchangeType, UInt32, Bool)] {
        net.wire.compactMap { d in
            guard let h = try? IKEHeader(decoding: d.bytes) else { return nil }
            if let f = (try? IKEMessage(decoding: d.bytes))?.encryptedFragment, f.fragmentNumber != 1 { return nil }
            return (h.exchangeType, h.messageID, h.isResponse)
        }
    }

    @Test("Two additional key exchanges: two IKE_INTERMEDIATE exchanges, IKE_AUTH as message 3, the same keys on both ends", arguments: [KeyType.ecdsaP256, .rsa2048])
    func establishes(_ keyType: KeyType) throws {
        let setup = SimulationSetup(pki: try SimulationPKI(keyType: keyType), ike: Self.hybrid, esp: Proposals.espGCM256)
        let net = try setup.network()
        net.run()
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.ikeAlgorithms?.description == "aes256gcm16-prfsha384-x25519-ke1_mlkem1024-ke2_ecp384")
        #expect(net.responder.ikeAlgorithms == net.initiator.ikeAlgorithms)
        let seen = Self.exchanges(net).map { "\($0.0) \($0.1)\($0.2 ? " r" : "")" }
        #expect(seen == ["IKE_SA_INIT 0", "IKE_SA_INIT 0 r", "IKE_INTERMEDIATE 1", "IKE_INTERMEDIATE 1 r",
                         "IKE_INTERMEDIATE 2", "IKE_INTERMEDIATE 2 r", "IKE_AUTH 3", "IKE_AUTH 3 r"])
        // ML-KEM-1024's KE went as RFC 7383 fragments (RFC 9242: IKE_INTERMEDIATE may be fragmented).
        #expect(net.wire.contains { d in
            (try? IKEHeader(decoding: d.bytes))?.exchangeType == .ikeIntermediate && (try? IKEMessage(decoding: d.bytes))?.encryptedFragment != nil
        })
        let a = try #require(net.initiatorEvents.compactMap(\.child).first)
        let b = try #require(net.responderEvents.compactMap(\.child).first)
        #expect(bytes(a.inboundEncryptionKey) == bytes(b.outboundEncryptionKey))
        #expect(bytes(a.outboundEncryptionKey) == bytes(b.inboundEncryptionKey))
        #expect(bytes(net.initiator.keys?.skD) == bytes(net.responder.keys?.skD))
    }

    /// §2.2.2: the Child SA's KEYMAT comes from SK_d after the last additional exchange, so the
    /// same seeds without the additional exchanges give other keys.
    @Test("The keys depend on the additional key exchanges: the same seeds without them key the Child SA differently")
    func additionalExchangesKeyTheSA() throws {
        let pki = try SimulationPKI()
        let hybrid = try SimulationSetup(pki: pki, ike: Self.hybrid, esp: Proposals.espGCM256).network(seed: 5)
        hybrid.run()
        let plain = try SimulationSetup(pki: pki, ike: Self.plain, esp: Proposals.espGCM256).network(seed: 5)
        plain.run()
        let h = try #require(hybrid.initiatorEvents.compactMap(\.child).first)
        let p = try #require(plain.initiatorEvents.compactMap(\.child).first)
        #expect(hybrid.initiator.nonceI == plain.initiator.nonceI)
        #expect(bytes(h.outboundEncryptionKey) != bytes(p.outboundEncryptionKey))
    }

    @Test("A responder that requires ke1 refuses an initiator without it: NO_PROPOSAL_CHOSEN in IKE_SA_INIT")
    func requiredAdditionalMissing() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Self.hybrid, esp: Proposals.espGCM256)
        setup.initiatorIKE = [Self.plain]
        let net = try setup.network()
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        #expect(a.code == .noProposalChosen && a.reportedByPeer)
        #expect(!Self.exchanges(net).contains { $0.0 == .ikeIntermediate })
    }

    @Test("ke1_none on one side and no additional exchange on the other: RFC 7296 as before, no IKE_INTERMEDIATE")
    func optionalAdditionalSkipped() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Self.plain, esp: Proposals.espGCM256)
        setup.initiatorIKE = [IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.curve25519],
                                              additional: [IKEAdditionalKeyExchange(index: 1, groups: [.mlkem768, nil])])]
        let net = try setup.network()
        net.run()
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.ikeAlgorithms?.description == "aes256gcm16-prfsha384-x25519-ke1_none")
        #expect(!Self.exchanges(net).contains { $0.0 == .ikeIntermediate })
    }

    @Test("Under 30% loss, duplication and reordering the exchanges converge (retransmitted fragmented IKE_INTERMEDIATE answered from the cache)",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func lossy(_ seed: UInt64) throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Self.hybrid, esp: Proposals.espGCM256)
        setup.retransmission = IKERetransmissionPolicy(timeout: 1, base: 1.5, tries: 12, jitter: 0.2)
        setup.halfOpenTimeout = 600
        let net = try setup.network(seed: seed, impairmentSeed: seed * 7919, impairment: .init(loss: 0.3, duplication: 0.2, maxDelay: 0.3))
        net.run(limit: 2_000)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(bytes(net.initiator.keys?.skD) == bytes(net.responder.keys?.skD))
    }

    @Test("An IKE SA made with additional key exchanges is rekeyed with one (no IKE_FOLLOWUP_KE), and the Child SA moves to it")
    func rekeyWithOneKeyExchange() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Self.hybrid, esp: Proposals.espGCM256)
        let net = try setup.network()
        net.run()
        let oldSKd = bytes(net.initiator.keys?.skD)
        net.initiator.rekeyIKESA(now: net.now)
        net.run(limit: 120)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.ikeAlgorithms?.description == "aes256gcm16-prfsha384-x25519")
        #expect(bytes(net.initiator.keys?.skD) != oldSKd)
        #expect(bytes(net.initiator.keys?.skD) == bytes(net.responder.keys?.skD))
        #expect(net.initiator.childSAs.count == 1 && net.responder.childSAs.count == 1)
    }
}
