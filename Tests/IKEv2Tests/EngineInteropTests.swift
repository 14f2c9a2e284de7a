import ViaductCrypto
import CryptoCore
@testable import IKEv2
import PKI
import Testing

/// The engine's SK protection (RFC 7296 §3.14, RFC 5282) and AUTH octets (§2.15) checked against
/// the real strongSwan exchange in Fixtures.swift, using the IKE SA keys charon logged for it
/// (shared/labs/strongswan/capture/ike-keys.txt: AES-GCM-256, PRF-HMAC-SHA2-256).
struct EngineInteropTests {
    static func key(_ hex: String) -> SecureBytes {
        SecureBytes(stride(from: 0, to: hex.count, by: 2).map { i in
            let s = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[s..<hex.index(s, offsetBy: 2)], radix: 16) ?? 0
        })
    }

    static let keys = IKESAKeys(
        skD: key("0e91f7720ae9bffd5352f6afa34a232b48e2441b366213d134eb4db064bdc301"), skAi: SecureBytes([]), skAr: SecureBytes([]),
        skEi: key("1d920a2d1ac7e6816aeaadaf1d3998429fd50fa95e14970b6d1483e6de706be17a38b48c"),
        skEr: key("5c0a4798a4dd9b977492aabf524524ba73eb5632bdda2d8bc1b13113c96b0065cb044365"),
        skPi: key("d9439aea9297fe1f34af1abae2a270254796ea589fbd52aa88dfc2eb5808dd62"),
        skPr: key("bb3fdd9720d61d55c3306f0a0256d799db1c47b61ff0fe75882406fd85b8262a"))
    static let algorithms = IKESelectedAlgorithms(encryption: .aesGCM16(keyBits: 256), integrity: nil, prf: .hmacSHA256, group: .ecp256)

    @Test("strongSwan's IKE_AUTH request and response open with our SK code and match the decrypted plaintext")
    func opensStrongSwanSK() throws {
        let asResponder = try IKEMessageProtection(provider: OpenSSLCryptoProvider(), algorithms: Self.algorithms, keys: Self.keys, isInitiator: false)
        let asInitiator = try IKEMessageProtection(provider: OpenSSLCryptoProvider(), algorithms: Self.algorithms, keys: Self.keys, isInitiator: true)
        let request = try IKEMessage(decoding: Fixtures.ikeAuthRequest)
        let inner = try asResponder.open(raw: Fixtures.ikeAuthRequest, sk: try #require(request.encryptedPayload))
        #expect(inner == (try IKEMessage.decodeInnerPayloads(Fixtures.ikeAuthRequestInner, firstPayload: .identificationInitiator)))
        let response = try IKEMessage(decoding: Fixtures.ikeAuthResponse)
        let inner2 = try asInitiator.open(raw: Fixtures.ikeAuthResponse, sk: try #require(response.encryptedPayload))
        #expect(inner2.contains { if case .authentication = $0 { true } else { false } })
        // The wrong direction's key must not open it.
        #expect(throws: (any Error).self) { try asInitiator.open(raw: Fixtures.ikeAuthRequest, sk: request.encryptedPayload!) }
    }

    @Test("Our §2.15 octets verify strongSwan's AUTH signature in its IKE_AUTH request")
    func verifiesStrongSwanAuth() throws {
        let inner = try IKEMessage.decodeInnerPayloads(Fixtures.ikeAuthRequestInner, firstPayload: .identificationInitiator)
        var idI: IKEIdentification?, cert: [UInt8]?, auth: IKEAuthentication?
        for p in inner {
            switch p {
            case .identificationInitiator(let i): idI = i
            case .certificate(let c): cert = c.data
            case .authentication(let a): auth = a
            default: break
            }
        }
        let initResponse = try IKEMessage(decoding: Fixtures.ikeSAInitResponse)
        let nonceR = try #require(initResponse.payloads.compactMap { if case .nonce(let n) = $0 { n.data } else { nil } }.first)
        let prf = try OpenSSLCryptoProvider().makePRF(.hmacSHA256)
        let octets = try IKEAuthOctets.octets(message: Fixtures.ikeSAInitRequest, nonce: nonceR, identification: try #require(idI),
                                              prf: prf, key: Self.keys.skPi)
        let certificate = try Certificate(derEncoded: try #require(cert))
        let a = try #require(auth)
        let method = try #require(SignatureAuthMethod(rawValue: a.method.rawValue))
        let scheme: SignatureScheme, signature: [UInt8]
        if method == .digitalSignature {
            (scheme, signature) = try DigitalSignatureAuthData.decode(a.data)
        } else {
            scheme = try #require(SignatureScheme(legacyAuthMethod: method))
            signature = a.data
        }
        #expect(try Signature.verify(signature, for: octets, publicKey: certificate.publicKey, scheme: scheme))
        var tampered = octets
        tampered[0] ^= 1
        #expect(!(try Signature.verify(signature, for: tampered, publicKey: certificate.publicKey, scheme: scheme)))
    }

    @Test("NAT-D in strongSwan's IKE_SA_INIT request: our hash of its source matches unless it faked it")
    func natDetectionAgainstCapture() throws {
        let request = try IKEMessage(decoding: Fixtures.ikeSAInitRequest)
        let d = IKEDatagram(bytes: Fixtures.ikeSAInitRequest, source: IKEEndpoint(address: [192, 0, 2, 1], port: 500),
                            destination: IKEEndpoint(address: [198, 51, 100, 1], port: 500))
        let destination = try #require(request.notifies.first { $0.type == .natDetectionDestinationIP })
        #expect(destination.data == IKENATDetection.hash(spiI: request.header.initiatorSPI, spiR: .zero, endpoint: d.destination))
        // The lab peer runs kernel-libipsec, which fakes its source hash: NAT is "detected".
        #expect(IKENATDetection.natDetected(in: request.notifies, spiI: request.header.initiatorSPI, spiR: .zero, datagram: d))
    }
}
