// RFC 7296 §2.15 and §3.8, RFC 7427 (method 14), RFC 4754 (methods 9-11), RFC 4945 (PKI profile).
import CryptoCore

/// The X.509 `PeerAuthenticator`: signs with our private key and validates the peer through
/// `CertificateValidator` (chain, validity at the injected time, CRLs, key usage, identity
/// binding), then checks the AUTH signature with `Signature`.
///
/// Immutable and `Sendable`: one instance serves every IKE session of a node, on any thread; the
/// parsed certificates, signing key and trust store behind it are built once, not per handshake.
public final class X509PeerAuthenticator: PeerAuthenticator, Sendable {
    public let certificate: Certificate
    public let intermediates: [Certificate]
    public let validator: CertificateValidator
    private let privateKey: PrivateKey
    /// RFC 8247 §2.5 deprecates SHA-1 signatures; only a peer that cannot do better gets them.
    public let allowSHA1: Bool

    public let certificateChainDER: [[UInt8]]
    public let trustedCAKeyHashes: [[UInt8]]
    public let supportedSignatureHashes: [UInt16]

    public init(certificate: Certificate, intermediates: [Certificate] = [], privateKey: PrivateKey,
                validator: CertificateValidator, allowSHA1: Bool = false) throws {
        guard privateKey.matches(certificate.publicKey) else {
            throw CryptoError(.keyMismatch, "private key does not match certificate '\(certificate.subject)'")
        }
        self.certificate = certificate
        self.intermediates = intermediates
        self.privateKey = privateKey
        self.validator = validator
        self.allowSHA1 = allowSHA1
        certificateChainDER = [certificate.derBytes] + intermediates.map(\.derBytes)
        trustedCAKeyHashes = validator.trustedCAKeyHashes
        supportedSignatureHashes = SignatureScheme.announcedHashes.map(\.rawValue)
    }

    // RFC 7427 §4: method 14 when the peer announced hashes, else the key's classic method.
    public func sign(_ octets: [UInt8], peerSupportedHashes: [UInt16]?)
        throws(PeerAuthenticationError) -> (authMethod: UInt8, authData: [UInt8])
    {
        let key = privateKey.algorithm
        do {
            if let peerSupportedHashes {
                let hashes = Set(peerSupportedHashes.compactMap(SignatureHashAlgorithm.init(rawValue:)))
                if let scheme = SignatureScheme.negotiate(for: key, peerHashes: hashes, allowSHA1: allowSHA1) {
                    let signature = try Signature.sign(octets, with: privateKey, scheme: scheme)
                    return (SignatureAuthMethod.digitalSignature.rawValue,
                            try DigitalSignatureAuthData.encode(scheme: scheme, signature: signature))
                }
            }
            guard let scheme = SignatureScheme.legacy(for: key, allowSHA1: allowSHA1) else {
                let offered = peerSupportedHashes.map { $0.map(String.init).joined(separator: ",") } ?? "none"
                throw PeerAuthenticationError(
                    .unsupportedMethod,
                    "no signature scheme for our \(key) key fits the peer's hash algorithms (\(offered))")
            }
            return (scheme.authMethod.rawValue, try Signature.sign(octets, with: privateKey, scheme: scheme))
        } catch let error as PeerAuthenticationError {
            throw error
        } catch {
            throw PeerAuthenticationError(.signingFailed, "signing AUTH with our \(key) key failed: \(error)")
        }
    }

    public func verify(peerCertificateChainDER: [[UInt8]], claimedIdentityType: UInt8, claimedIdentityData: [UInt8],
                       authMethod: UInt8, authData: [UInt8], octets: [UInt8], now: Int64)
        throws(PeerAuthenticationError) -> String
    {
        guard let eeDER = peerCertificateChainDER.first else {
            throw PeerAuthenticationError(.noCertificate, "the peer sent no X.509 certificate (CERT payload)")
        }
        let identity = try Self.identity(type: claimedIdentityType, data: claimedIdentityData)
        let ee: Certificate
        var intermediates: [Certificate] = []
        do {
            ee = try validator.certificate(derEncoded: eeDER)
            for der in peerCertificateChainDER.dropFirst() { intermediates.append(try validator.certificate(derEncoded: der)) }
        } catch {
            throw PeerAuthenticationError(.malformedCertificate, "the peer's certificate cannot be parsed: \(error)")
        }
        do {
            try validator.validate(ee, intermediates: intermediates, identity: identity, at: now)
        } catch let error as CryptoError {
            throw PeerAuthenticationError(Self.map(error.code), error.message)
        } catch {
            throw PeerAuthenticationError(.certificateUntrusted, "certificate '\(ee.subject)': \(error)")
        }
        let scheme: SignatureScheme
        let signature: [UInt8]
        do {
            if authMethod == SignatureAuthMethod.digitalSignature.rawValue {
                (scheme, signature) = try DigitalSignatureAuthData.decode(authData)
            } else if let method = SignatureAuthMethod(rawValue: authMethod),
                      let legacy = SignatureScheme(legacyAuthMethod: method) {
                (scheme, signature) = (legacy, authData)
            } else {
                throw PeerAuthenticationError(
                    .unsupportedMethod, "auth method \(authMethod) is not a certificate signature method we accept")
            }
            if scheme.hash == .sha1 && !allowSHA1 {
                throw PeerAuthenticationError(.unsupportedMethod, "the peer signed with SHA-1 (\(scheme)), which is refused")
            }
            guard try Signature.verify(signature, for: octets, publicKey: ee.publicKey, scheme: scheme) else {
                throw PeerAuthenticationError(
                    .badSignature,
                    "AUTH signature (\(scheme)) does not verify with the key of '\(ee.subject)': wrong key or tampered exchange")
            }
        } catch let error as PeerAuthenticationError {
            throw error
        } catch {
            throw PeerAuthenticationError(.unsupportedMethod, "cannot check the peer's AUTH payload: \(error)")
        }
        return Self.text(identity)
    }

    private static func map(_ code: CryptoError.Code) -> PeerAuthenticationError.Code {
        switch code {
        case .certificateExpired: .certificateExpired
        case .certificateNotYetValid: .certificateNotYetValid
        case .certificateRevoked: .certificateRevoked
        case .crlUnavailable, .crlInvalid: .revocationUnavailable
        case .identityMismatch: .identityMismatch
        case .keyUsage: .keyUsage
        default: .certificateUntrusted
        }
    }

    // RFC 7296 §3.5 ID types that RFC 4945 §3.1 binds to certificates.
    private static func identity(type: UInt8, data: [UInt8]) throws(PeerAuthenticationError) -> CertificateIdentity {
        switch type {
        case 1 where data.count == 4, 5 where data.count == 16: return .ipAddress(data)
        case 2, 3:
            guard let text = String(validating: data, as: UTF8.self) else {
                throw PeerAuthenticationError(.unsupportedIdentity, "the peer's identity is not valid UTF-8")
            }
            return type == 2 ? .fqdn(text) : .rfc822(text)
        case 9: return .distinguishedName(data)
        default:
            throw PeerAuthenticationError(.unsupportedIdentity, "ID type \(type) cannot be bound to a certificate")
        }
    }

    private static func text(_ identity: CertificateIdentity) -> String {
        switch identity {
        case .fqdn(let s), .rfc822(let s): s
        case .ipAddress(let b): IPAddressText.format(b)
        case .distinguishedName(let der): (try? DistinguishedName(der: der).string) ?? "<undecodable DN>"
        }
    }
}
