import ViaductCrypto
import CryptoCore
import IKEv2
import PKI
import Testing

/// RFC 7296 §1.2 between two engines with real crypto:
///   HDR, SAi1, KEi, Ni, N(NAT_D)x2, N(SIGNATURE_HASH_ALGORITHMS)  -->
///                                   <--  HDR, SAr1, KEr, Nr, N(NAT_D)x2, CERTREQ, N(SHA)
///   HDR, SK {IDi, CERT, CERTREQ, IDr, AUTH, SAi2, TSi, TSr, N(INITIAL_CONTACT)}  -->
///                                   <--  HDR, SK {IDr, CERT, AUTH, SAr2, TSi, TSr}
struct EngineHandshakeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var ike: IKEAlgorithmSet
        var esp: ESPAlgorithmSet
        var keyType: KeyType
        var testDescription: String { "\(ike) / \(esp) / \(keyType)" }
    }

    static let cases: [Case] = [KeyType.ecdsaP256, .rsa2048].flatMap { key in
        [
            Case(ike: Proposals.gcm256, esp: Proposals.espGCM256, keyType: key),
            Case(ike: Proposals.gcm128x25519, esp: Proposals.espGCM128, keyType: key),
            Case(ike: Proposals.cbc256modp3072, esp: Proposals.espCBC256, keyType: key),
            Case(ike: Proposals.chacha, esp: Proposals.espChaCha, keyType: key),
            Case(ike: Proposals.gcm256mlkem768, esp: Proposals.espGCM256, keyType: key),
        ]
    }

    @Test("IKE_SA_INIT + IKE_AUTH establish matching Child SAs", arguments: cases)
    func establishes(_ c: Case) throws {
        let setup = SimulationSetup(pki: try SimulationPKI(keyType: c.keyType), ike: c.ike, esp: c.esp)
        let net = try setup.network()
        net.run()
        #expect(net.initiator.state == .established)
        #expect(net.responder.state == .established)
        #expect(net.initiator.ikeAlgorithms?.description == c.ike.description)
        let a = try #require(net.initiatorEvents.compactMap(\.child).first)
        let b = try #require(net.responderEvents.compactMap(\.child).first)
        // Crosswise: my inbound is your outbound (RFC 7296 §2.17 direction split).
        #expect(a.inboundSPI == b.outboundSPI)
        #expect(a.outboundSPI == b.inboundSPI)
        #expect(a.inboundSPI >= 256 && b.inboundSPI >= 256)
        #expect(bytes(a.inboundEncryptionKey) == bytes(b.outboundEncryptionKey))
        #expect(bytes(a.outboundEncryptionKey) == bytes(b.inboundEncryptionKey))
        #expect(bytes(a.inboundEncryptionKey) != bytes(a.outboundEncryptionKey))
        #expect(bytes(a.inboundIntegrityKey) == bytes(b.outboundIntegrityKey))
        #expect(bytes(a.outboundIntegrityKey) == bytes(b.inboundIntegrityKey))
        #expect(a.inboundEncryptionKey.count == c.esp.encryption[0].keyMaterialLength)
        #expect((a.integrity == nil) == c.esp.encryption[0].isAEAD)
        #expect(a.encryption == c.esp.encryption[0] && b.encryption == c.esp.encryption[0])
        #expect(a.local == SimulationSetup.gw1 && a.peer == SimulationSetup.gw2)
        #expect(b.local == SimulationSetup.gw2 && b.peer == SimulationSetup.gw1)
        #expect(!a.udpEncapsulation && !b.udpEncapsulation)
        #expect(net.initiator.peerIdentityText == "gw2.example.net")
        #expect(net.responder.peerIdentityText == "gw1.example.net")
        // Four messages on the wire (an RSA IKE_AUTH goes as RFC 7383 fragments: counted once),
        // nothing retransmitted.
        let messages = net.wire.filter { d in
            (try? IKEMessage(decoding: d.bytes))?.encryptedFragment.map { $0.fragmentNumber == 1 } ?? true
        }
        #expect(messages.count == 4)
    }

    @Test("Forced UDP encapsulation: NAT-D faked, IKE_AUTH floats to 4500, Child SA encapsulated")
    func forcedEncapsulation() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.forceEncapsulation = true
        let net = try setup.network()
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.child).first)
        let b = try #require(net.responderEvents.compactMap(\.child).first)
        #expect(a.udpEncapsulation && b.udpEncapsulation)
        #expect(a.local.port == 4500 && a.peer.port == 4500 && b.local.port == 4500 && b.peer.port == 4500)
        #expect(net.wire[0].destination.port == 500 && net.wire[2].destination.port == 4500)
    }

    @Test("INVALID_KE_PAYLOAD: the responder names its group, the initiator retries with it")
    func invalidKERetry() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.initiatorIKE = [IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.ecp256, .curve25519])]
        setup.responderIKE = [IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.curve25519])]
        let net = try setup.network()
        net.run()
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.ikeAlgorithms?.group == .curve25519)
        // KEi(ecp256) -> N(INVALID_KE_PAYLOAD) -> KEi(x25519) -> response -> IKE_AUTH pair.
        #expect(net.wire.count == 6)
        let rejection = try IKEMessage(decoding: net.wire[1].bytes)
        #expect(rejection.notifies.map(\.type) == [.invalidKEPayload])
        #expect(rejection.notifies.first?.data == [0, 31])
        let retry = try IKEMessage(decoding: net.wire[2].bytes)
        #expect(retry.payloads.contains { if case .keyExchange(let k) = $0 { k.group == 31 } else { false } })
    }

    @Test("The responder picks the first of ITS proposals that the initiator offers")
    func responderPreference() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.initiatorIKE = [Proposals.gcm128x25519, Proposals.chacha]
        setup.responderIKE = [Proposals.chacha, Proposals.gcm128x25519]
        setup.initiatorESP = [Proposals.espGCM128, Proposals.espChaCha]
        setup.responderESP = [Proposals.espChaCha, Proposals.espGCM128]
        let net = try setup.network()
        net.run()
        #expect(net.initiator.ikeAlgorithms?.encryption == .chacha20Poly1305)
        #expect(net.initiator.childSA?.encryption == .chacha20Poly1305)
    }

    @Test("A responder configured for 0.0.0.0/0 only narrows TSi/TSr to IPv4; the initiator accepts")
    func narrowingToIPv4() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.responderTrafficSelectors = [.anyIPv4]
        let net = try setup.network()
        net.run()
        #expect(net.initiator.state == .established)
        let auth = net.wire[3]
        #expect(auth.source == SimulationSetup.gw2)
    }

    @Test("Same seeds, same bytes: the whole exchange is deterministic (RSA PKCS#1 signatures)")
    func deterministic() throws {
        let pki = try SimulationPKI(keyType: .rsa2048)
        let setup = SimulationSetup(pki: pki, ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let gw1 = try pki.gateway("gw1.example.net"), gw2 = try pki.gateway("gw2.example.net")
        func run(_ seed: UInt64) throws -> [[UInt8]] {
            let net = setup.network(initiatorAuth: try pki.authenticator(gw1), responderAuth: try pki.authenticator(gw2),
                                    seed: seed, impairmentSeed: 7,
                                    impairment: .init(loss: 0.2, duplication: 0.1, maxDelay: 0.05))
            net.run()
            #expect(net.initiator.state == .established)
            return net.wire.map(\.bytes)
        }
        let first = try run(42)
        #expect(first == (try run(42)))
        #expect(first != (try run(43)))
    }

    @Test("close(): HDR, SK {D(IKE)} --> <-- HDR, SK {} and both sides report the deletion")
    func deleteIKESA() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm128x25519, esp: Proposals.espGCM128)
        let net = try setup.network()
        net.run()
        net.initiator.close(now: net.now)
        net.run()
        #expect(net.initiator.state == .closed && net.responder.state == .closed)
        #expect(net.initiatorEvents.contains { if case .ikeSADeleted = $0 { true } else { false } })
        #expect(net.responderEvents.contains { if case .childSADeleted = $0 { true } else { false } })
    }
}
