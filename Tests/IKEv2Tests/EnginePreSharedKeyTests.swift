import ViaductCrypto
import CryptoCore
@testable import IKEv2
import Testing
import TestSupport

/// RFC 7296 §2.15: authentication with a pre-shared key (AUTH method 2), the way cloud VPN
/// gateways (AWS, Azure, Google) and most partner firewalls are configured.
struct EnginePreSharedKeyTests {
    static let key = Array("viaduct test pre-shared key, 32+ bytes long".utf8)

    @Test("The MIC is prf(prf(key, \"Key Pad for IKEv2\"), octets): known answers for HMAC-SHA-256 and -384 (computed with Python's hmac)",
          arguments: [
            (PRFAlgorithm.hmacSHA256, "27996322c2972fddda7480a3e67748a035c56d709673a2995913390a758521f3"),
            (PRFAlgorithm.hmacSHA384, "b2b6e61a8ca484d0bffe018b6a06447dd6cff6428d21b6a00a724b75b4873a5ffc108202a1ab06001c67a8a63a4762d7"),
          ])
    func knownAnswer(prf: PRFAlgorithm, expected: String) throws {
        let f = try OpenSSLCryptoProvider().makePRF(prf)
        let mic = try IKEAuthOctets.sharedKeyMIC(Array(0..<64), preSharedKey: SecureBytes(Self.key), prf: f)
        #expect(mic.withUnsafeBytes { Array($0) } == hex(expected))
    }

    static func setup(initiatorKey: [UInt8]?, responderKey: [UInt8]?) throws -> SimulationSetup {
        var s = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        if let initiatorKey { s.preSharedKeys[.initiator] = initiatorKey }
        if let responderKey { s.preSharedKeys[.responder] = responderKey }
        return s
    }

    /// The IKE_AUTH messages on the wire, each decrypted by the side it was sent to.
    static func authPayloads(_ net: SimulationNetwork) -> [[IKEPayload]] {
        net.wire.compactMap { d -> [IKEPayload]? in
            guard let m = try? IKEMessage(decoding: d.bytes), m.header.exchangeType == .ikeAuth else { return nil }
            return (m.header.isResponse ? net.initiator : net.responder).openProtected(m, d)
        }
    }

    @Test("The same key on both ends: up with AUTH method 2 both ways, no CERT or CERTREQ sent, Child SA keys agree")
    func sameKey() throws {
        let net = try Self.setup(initiatorKey: Self.key, responderKey: Self.key).network()
        net.run(limit: 60)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        let auth = Self.authPayloads(net)
        #expect(auth.count == 2)
        for payloads in auth {
            #expect(payloads.contains { if case .authentication(let a) = $0 { a.method == .sharedKeyMIC } else { false } })
            #expect(!payloads.contains { if case .certificate = $0 { true } else if case .certificateRequest = $0 { true } else { false } })
        }
        let a = try #require(net.initiator.childSA), b = try #require(net.responder.childSA)
        #expect(a.inboundSPI == b.outboundSPI && a.outboundSPI == b.inboundSPI)
        #expect(a.outboundEncryptionKey.constantTimeEquals(b.inboundEncryptionKey))
    }

    @Test("Different keys: the responder refuses with AUTHENTICATION_FAILED and says the psk-files differ; the initiator fails on the notify",
          arguments: [false, true])
    func differentKeys(responderWrong: Bool) throws {
        var other = Self.key
        other[0] ^= 1
        let net = try Self.setup(initiatorKey: responderWrong ? Self.key : other, responderKey: responderWrong ? other : Self.key).network()
        net.run(limit: 60)
        guard case .failed(let r) = net.responder.state, case .failed(let i) = net.initiator.state else {
            Issue.record("states \(net.initiator.state) / \(net.responder.state)")
            return
        }
        #expect(r.code == .authenticationFailed && r.message.contains("psk-file of the two ends differ"), "\(r.message)")
        #expect(r.notify == IKENotifyType.authenticationFailed.rawValue)
        #expect(i.code == .authenticationFailed && i.reportedByPeer, "\(i)")
        #expect(net.initiator.childSA == nil && net.responder.childSA == nil)
    }

    @Test("A key on one end and certificates on the other fail authentication on both, never up", arguments: [false, true])
    func keyAgainstCertificate(keyOnInitiator: Bool) throws {
        let net = try Self.setup(initiatorKey: keyOnInitiator ? Self.key : nil, responderKey: keyOnInitiator ? nil : Self.key).network()
        net.run(limit: 60)
        #expect(net.initiator.state != .established && net.responder.state != .established)
        guard case .failed(let r) = net.responder.state else {
            Issue.record("responder \(net.responder.state)")
            return
        }
        #expect([.authenticationFailed, .certificateInvalid].contains(r.code), "\(r)")
    }
}
