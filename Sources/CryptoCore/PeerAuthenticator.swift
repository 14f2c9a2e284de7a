// RFC 7296 §2.15 (AUTH payload), §3.6–§3.8 (CERT, CERTREQ, AUTH), RFC 7427 (signature auth).

/// Why a peer could not be authenticated, or why we could not sign. The code is stable (logs,
/// metrics, tests compare it); the message names the certificate, identity or algorithm so a
/// network engineer can act on it without a packet capture.
public struct PeerAuthenticationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        case noCertificate = "no-certificate"
        case malformedCertificate = "malformed-certificate"
        case certificateExpired = "certificate-expired"
        case certificateNotYetValid = "certificate-not-yet-valid"
        case certificateUntrusted = "certificate-untrusted"
        case certificateRevoked = "certificate-revoked"
        case revocationUnavailable = "revocation-unavailable"
        case keyUsage = "key-usage"
        case identityMismatch = "identity-mismatch"
        case unsupportedIdentity = "unsupported-identity"
        case unsupportedMethod = "unsupported-auth-method"
        case badSignature = "bad-signature"
        case signingFailed = "signing-failed"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The signature half of IKE_AUTH, injected into the engine so the pure core never touches
/// X.509 or a private key. The engine builds the octets of RFC 7296 §2.15; the authenticator
/// signs them with our key and checks the peer's, including the certificate chain, revocation
/// and the identity binding (RFC 4945 §3.2), at a wall-clock time the caller supplies.
///
/// Identities cross this boundary in wire form (ID Type and Identification Data, §3.5) because
/// CryptoCore does not know the IKE codec.
public protocol PeerAuthenticator {
    /// Our certificate first, then intermediates (DER), sent as CERT payloads (encoding 4).
    var certificateChainDER: [[UInt8]] { get }
    /// SHA-1 of the SubjectPublicKeyInfo of each CA we trust: the CERTREQ contents (§3.7).
    var trustedCAKeyHashes: [[UInt8]] { get }
    /// The RFC 7427 §4 hash algorithm numbers we announce in SIGNATURE_HASH_ALGORITHMS.
    var supportedSignatureHashes: [UInt16] { get }

    /// Signs `octets`. When the peer announced SIGNATURE_HASH_ALGORITHMS (`peerSupportedHashes`
    /// non-nil) the result should be method 14 (RFC 7427); otherwise the classic method for the
    /// key (1 for RSA, 9/10/11 for ECDSA, RFC 4754). Returns the Auth Method and the
    /// Authentication Data.
    func sign(_ octets: [UInt8], peerSupportedHashes: [UInt16]?)
        throws(PeerAuthenticationError) -> (authMethod: UInt8, authData: [UInt8])

    /// Validates the peer's chain (end entity first) at `now` (seconds since the epoch), checks
    /// that it binds the claimed identity and that `authData` is a valid signature of `octets`
    /// under the end entity's key. Returns the authenticated identity as text for logs/status.
    func verify(peerCertificateChainDER: [[UInt8]], claimedIdentityType: UInt8, claimedIdentityData: [UInt8],
                authMethod: UInt8, authData: [UInt8], octets: [UInt8], now: Int64)
        throws(PeerAuthenticationError) -> String
}
