import ViaductCrypto
import CryptoCore
@testable import IKEv2
import PKI
import Testing

/// RFC 7383 in the simulation: an IKE_AUTH carrying an RSA-4096 leaf and an RSA-4096
/// intermediate CA does not fit a 1280-byte datagram, so both sides send it as SKF fragments.
///
///   HDR, SAi1, KEi, Ni, N(IKEV2_FRAGMENTATION_SUPPORTED)  -->
///                                 <--  HDR, SAr1, KEr, Nr, N(IKEV2_FRAGMENTATION_SUPPORTED)
///   HDR, SKF{1/n}, ..., HDR, SKF{n/n}  -->      (IDi, CERT, CERT, AUTH, SAi2, TSi, TSr)
///                                 <--  HDR, SKF{1/m}, ..., HDR, SKF{m/m}
@Suite("RFC 7383 IKE fragmentation", .serialized)
struct EngineFragmentationTests {
    /// Root (ECDSA, never sent) -> intermediate -> gateways, RSA-4096 where the size matters.
    /// Made per test: certificates and keys are not `Sendable`, so tests cannot share them. The
    /// tests of the mechanics use ECDSA and a 576-octet fragment size instead (RFC 7383 §2.5.1's
    /// IPv4 minimum), which fragments as well and generates keys in no time.
    struct ChainPKI {
        let root: Certificate
        let intermediate: Certificate
        let gw1: (Certificate, PrivateKey)
        let gw2: (Certificate, PrivateKey)

        init(keyType: KeyType) throws {
            let rootKey = try PrivateKey.generate(.ecdsaP256)
            root = try PKI.selfSign(.certificateAuthority(subject: "CN=Fragmentation Root,O=Viaduct", notBefore: SimulationPKI.now - 10 * SimulationPKI.day,
                                                          notAfter: SimulationPKI.now + 3650 * SimulationPKI.day), key: rootKey)
            let intermediateKey = try PrivateKey.generate(keyType)
            let intermediate = try PKI.issue(.certificateAuthority(subject: "CN=Fragmentation Intermediate,O=Viaduct",
                                                                   notBefore: SimulationPKI.now - 10 * SimulationPKI.day,
                                                                   notAfter: SimulationPKI.now + 3650 * SimulationPKI.day),
                                             publicKey: intermediateKey.publicKey, issuer: root, issuerKey: rootKey)
            self.intermediate = intermediate
            gw1 = try Self.gateway("gw1.example.net", keyType: keyType, issuer: intermediate, issuerKey: intermediateKey)
            gw2 = try Self.gateway("gw2.example.net", keyType: keyType, issuer: intermediate, issuerKey: intermediateKey)
        }

        static func gateway(_ fqdn: String, keyType: KeyType, issuer: Certificate, issuerKey: PrivateKey) throws -> (Certificate, PrivateKey) {
            let key = try PrivateKey.generate(keyType)
            let cert = try PKI.issue(.gateway(subject: "CN=\(fqdn),O=Viaduct", subjectAltNames: [.dns(fqdn)],
                                              notBefore: SimulationPKI.now - SimulationPKI.day, notAfter: SimulationPKI.now + 365 * SimulationPKI.day),
                                     publicKey: key.publicKey, issuer: issuer, issuerKey: issuerKey)
            return (cert, key)
        }

        func authenticator(_ gw: (Certificate, PrivateKey)) throws -> X509PeerAuthenticator {
            try X509PeerAuthenticator(certificate: gw.0, intermediates: [intermediate], privateKey: gw.1,
                                      validator: CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [root])))
        }
    }

    func setup(_ initiatorFragmentation: IKEFragmentationPolicy = IKEFragmentationPolicy(),
               _ responderFragmentation: IKEFragmentationPolicy = IKEFragmentationPolicy(),
               keyType: KeyType = .ecdsaP256, halfOpenTimeout: Double = 30,
               retransmission: IKERetransmissionPolicy = .strongSwanDefaults,
               seed: UInt64 = 1, impairmentSeed: UInt64 = 0,
               impairment: SimulationNetwork.Impairment = .none) throws -> SimulationNetwork {
        let chain = try ChainPKI(keyType: keyType)
        var base = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        base.halfOpenTimeout = halfOpenTimeout
        base.retransmission = retransmission
        var i = base.configuration(.initiator)
        i.fragmentation = initiatorFragmentation
        var r = base.configuration(.responder)
        r.fragmentation = responderFragmentation
        let a = IKESession(configuration: i, cryptoProvider: OpenSSLCryptoProvider(), random: SeededRandomSource(seed: seed),
                           authenticator: try chain.authenticator(chain.gw1))
        let b = IKESession(configuration: r, cryptoProvider: OpenSSLCryptoProvider(), random: SeededRandomSource(seed: seed &+ 0x1000),
                           authenticator: try chain.authenticator(chain.gw2))
        return SimulationNetwork(initiator: a, responder: b, impairmentSeed: impairmentSeed, impairment: impairment)
    }

    /// RFC 7383 §2.5.1's smallest IPv4 fragment size.
    static let small = IKEFragmentationPolicy(maxDatagramSize: 576)

    static func skf(_ d: IKEDatagram) -> IKEEncryptedFragment? { (try? IKEMessage(decoding: d.bytes))?.encryptedFragment }

    @Test("IKE_AUTH with an RSA-4096 chain goes as SKF fragments, each within 1280 octets, and establishes")
    func fragmentedAuth() throws {
        let net = try setup(keyType: .rsa4096)
        net.run(limit: 60)
        #expect(net.initiator.state == .established)
        #expect(net.responder.state == .established)
        #expect(net.initiator.fragmentationNegotiated && net.responder.fragmentationNegotiated)
        let fragments = net.wire.filter { Self.skf($0) != nil }
        // Both IKE_AUTH messages were fragmented: several fragments per direction.
        let fromI = fragments.filter { $0.source == net.initiator.local }
        let fromR = fragments.filter { $0.source == net.responder.local }
        #expect(fromI.count >= 3 && fromR.count >= 3)
        for f in fragments {
            // IPv4 20 + UDP 8 (+ marker 4 on 4500) + IKE <= 1280.
            let overhead = 28 + (f.source.port == 4500 || f.destination.port == 4500 ? 4 : 0)
            #expect(f.bytes.count + overhead <= 1280)
        }
        // No unfragmented IKE_AUTH went out.
        let wholeAuth = net.wire.compactMap { try? IKEMessage(decoding: $0.bytes) }.filter { $0.header.exchangeType == .ikeAuth && $0.encryptedPayload != nil }
        #expect(wholeAuth.isEmpty)
        #expect(net.initiator.fragmentationStatistics.messagesFragmented == 1)
        #expect(net.responder.fragmentationStatistics.messagesReassembled == 1)
        #expect(net.initiator.fragmentationStatistics.messagesReassembled == 1)
        // The peer authenticated through the intermediate.
        #expect(net.initiator.childSA != nil && net.responder.childSA != nil)
    }

    @Test("Fragmented IKE_AUTH survives 30% loss, duplication and reordering", arguments: [UInt64(3), 11, 29])
    func lossAndReordering(seed: UInt64) throws {
        // Every try of each direction loses a third of its fragments: a patient policy for such
        // a path (10 retransmissions, at most 20 s apart; the responder waits 5 min for IKE_AUTH),
        // as strongSwan's retransmit_tries / retransmit_limit / half_open_timeout allow.
        let net = try setup(keyType: .rsa4096, halfOpenTimeout: 300,
                            retransmission: IKERetransmissionPolicy(timeout: 4, base: 1.8, tries: 10, jitter: 0, limit: 20),
                            impairmentSeed: seed,
                            impairment: SimulationNetwork.Impairment(loss: 0.3, duplication: 0.1, maxDelay: 2))
        net.run(limit: 600)
        #expect(net.initiator.state == .established)
        #expect(net.responder.state == .established)
        #expect(net.initiator.childSA?.outboundSPI == net.responder.childSA?.inboundSPI)
    }

    @Test("Without the peer's IKEV2_FRAGMENTATION_SUPPORTED nothing is fragmented")
    func notNegotiated() throws {
        let net = try setup(Self.small, IKEFragmentationPolicy(enabled: false, maxDatagramSize: 576))
        net.run(limit: 60)
        #expect(!net.initiator.fragmentationNegotiated)
        #expect(net.wire.allSatisfy { Self.skf($0) == nil })
        // The whole messages still get through the simulated network (no MTU there).
        #expect(net.initiator.state == .established)
    }

    @Test("A retransmitted fragmented request resends every fragment; fragment 1 of a retransmission brings the cached response")
    func retransmission() throws {
        let net = try setup(Self.small, Self.small)
        // Lose the responder's IKE_AUTH response fragments once.
        var dropped = 0
        net.blackhole = { d in
            guard Self.skf(d) != nil, d.source == net.responder.local, dropped < 100, net.initiator.state != .established else { return false }
            dropped += 1
            return true
        }
        net.initiator.start(now: net.now)
        net.drain()
        // Deliver IKE_SA_INIT both ways and the first IKE_AUTH by running a bounded time.
        net.run(limit: 3)
        let firstAuth = net.wire.filter { Self.skf($0) != nil && $0.source == net.initiator.local }
        #expect(firstAuth.count >= 3)
        let responseFragments = net.wire.filter { Self.skf($0) != nil && $0.source == net.responder.local }.count
        #expect(responseFragments >= 3)
        // Stop dropping; the initiator's retransmission timer resends all fragments.
        net.blackhole = { _ in false }
        net.run(limit: 30)
        let authRequests = net.wire.filter { Self.skf($0) != nil && $0.source == net.initiator.local }
        #expect(authRequests.count == 2 * firstAuth.count)
        // Fragment 1 of the retransmission brought the whole cached response back, once.
        let responses = net.wire.filter { Self.skf($0) != nil && $0.source == net.responder.local }
        #expect(responses.count == 2 * responseFragments)
        #expect(net.initiator.state == .established)
        #expect(net.responder.fragmentationStatistics.messagesReassembled == 1)
    }

    @Test("A forged fragment (bad ICV) is dropped and does not displace the genuine one")
    func forgedFragment() throws {
        let net = try setup(Self.small, Self.small)
        net.hold = true
        net.initiator.start(now: net.now)
        // IKE_SA_INIT request -> responder, response -> initiator, which sends IKE_AUTH fragments.
        for d in net.takeHeld() { net.deliver(d) }  // IKE_SA_INIT request
        for d in net.takeHeld() { net.deliver(d) }  // IKE_SA_INIT response
        let authFragments = net.takeHeld()
        #expect(authFragments.count >= 3)
        #expect(authFragments.allSatisfy { Self.skf($0) != nil })
        // A forgery of fragment 2: same header and numbers, ciphertext flipped.
        var forged = authFragments[1]
        forged.bytes[forged.bytes.count - 20] ^= 0x01
        net.deliver(forged)
        #expect(net.responder.fragmentationStatistics.fragmentsRejected == 1)
        #expect(net.responder.fragmentationStatistics.fragmentsReceived == 0)
        // The genuine fragments, in reverse order, complete the message.
        for d in authFragments.reversed() { net.deliver(d) }
        #expect(net.responder.fragmentationStatistics.messagesReassembled == 1)
        #expect(net.responder.state == .established)
    }

    @Test("Fragments beyond the reassembly limits are refused and the SA does not come up")
    func reassemblyLimits() throws {
        // The responder accepts at most 2 fragments per message: the initiator's IKE_AUTH needs more.
        let tight = IKEFragmentationPolicy(maxDatagramSize: 576, maxFragments: 2)
        let net = try setup(Self.small, tight)
        net.run(limit: 10)
        #expect(net.responder.state == .initAnswered)
        #expect(net.responder.fragmentationStatistics.fragmentsRejected > 0)
        #expect(net.responder.fragmentationStatistics.messagesReassembled == 0)

        // The same with a byte limit below the message size.
        let bytes = IKEFragmentationPolicy(maxDatagramSize: 576, maxMessageSize: 600)
        let net2 = try setup(Self.small, bytes)
        net2.run(limit: 10)
        #expect(net2.responder.state == .initAnswered)
        #expect(net2.responder.fragmentationStatistics.fragmentsRejected > 0)
    }
}

/// The reassembly buffer on its own (RFC 7383 §2.6 rules), without crypto.
@Suite("RFC 7383 §2.6 reassembly buffer")
struct FragmentReassemblyTests {
    let policy = IKEFragmentationPolicy(maxFragments: 4, maxMessageSize: 100, reassemblyTimeoutSeconds: 10)
    let t0 = IKEInstant.seconds(0)
    let key = IKEFragmentReassembly.Key(messageID: 1, isResponse: false)

    func code(_ o: IKEFragmentReassembly.Outcome) -> String {
        switch o {
        case .stored: "stored"
        case .complete: "complete"
        case .rejected(let r): r.code.rawValue
        }
    }

    @Test("Out-of-order pieces reassemble in fragment-number order; duplicates are refused")
    func order() {
        var r = IKEFragmentReassembly()
        #expect(code(r.add(key, number: 3, total: 3, firstPayload: .noNextPayload, plaintext: [5, 6], now: t0, policy: policy)) == "stored")
        #expect(code(r.add(key, number: 3, total: 3, firstPayload: .noNextPayload, plaintext: [5, 6], now: t0, policy: policy)) == "duplicate")
        #expect(code(r.add(key, number: 1, total: 3, firstPayload: .identificationInitiator, plaintext: [1, 2], now: t0, policy: policy)) == "stored")
        guard case .complete(let first, let whole) = r.add(key, number: 2, total: 3, firstPayload: .noNextPayload, plaintext: [3, 4], now: t0, policy: policy) else {
            Issue.record("not complete")
            return
        }
        #expect(first == .identificationInitiator)
        #expect(whole == [1, 2, 3, 4, 5, 6])
        #expect(r.isEmpty)
    }

    @Test("Limits: too many fragments, too many octets; the buffer is emptied, not grown")
    func limits() {
        var r = IKEFragmentReassembly()
        #expect(code(r.add(key, number: 1, total: 5, firstPayload: .notify, plaintext: [1], now: t0, policy: policy)) == "too-many-fragments")
        #expect(r.isEmpty)
        #expect(code(r.add(key, number: 1, total: 3, firstPayload: .notify, plaintext: Array(repeating: 0, count: 60), now: t0, policy: policy)) == "stored")
        #expect(code(r.add(key, number: 2, total: 3, firstPayload: .notify, plaintext: Array(repeating: 0, count: 60), now: t0, policy: policy)) == "too-large")
        #expect(r.isEmpty && r.size == 0)
    }

    @Test("A new message ID, a larger total, or inactivity discard the incomplete message; a smaller total is stale")
    func discard() {
        var r = IKEFragmentReassembly()
        _ = r.add(key, number: 1, total: 3, firstPayload: .notify, plaintext: [1], now: t0, policy: policy)
        let other = IKEFragmentReassembly.Key(messageID: 2, isResponse: false)
        #expect(code(r.add(other, number: 2, total: 2, firstPayload: .notify, plaintext: [2], now: t0, policy: policy)) == "stored")
        #expect(r.key == other && r.size == 1)
        #expect(code(r.add(other, number: 1, total: 1, firstPayload: .notify, plaintext: [9], now: t0, policy: policy)) == "stale-total")
        #expect(code(r.add(other, number: 1, total: 4, firstPayload: .notify, plaintext: [3], now: t0, policy: policy)) == "stored")
        #expect(r.size == 1)
        // 11 s later the rest of message 2 comes: what was kept is too old and goes.
        #expect(code(r.add(other, number: 2, total: 4, firstPayload: .notify, plaintext: [4], now: .seconds(11), policy: policy)) == "stored")
        #expect(r.size == 1)
        // The timeout counts from the last fragment kept: 9 s later the message is still alive.
        #expect(code(r.add(other, number: 3, total: 4, firstPayload: .notify, plaintext: [5], now: .seconds(20), policy: policy)) == "stored")
        #expect(r.size == 2)
    }
}
