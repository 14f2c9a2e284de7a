import CryptoCore

/// Error codes for certificate handling and validation. Each validation failure has its own code so
/// a log line, a test or an operator's script can tell "expired" from "revoked" without parsing prose.
extension CryptoError.Code {
    /// The certificate (or a CA in its chain) is past its notAfter at the validation time.
    public static let certificateExpired = Self(rawValue: "certificate-expired")
    /// The certificate (or a CA in its chain) is before its notBefore at the validation time.
    public static let certificateNotYetValid = Self(rawValue: "certificate-not-yet-valid")
    /// No chain to a configured trust anchor (unknown CA, bad signature, CA constraints violated).
    public static let certificateUntrusted = Self(rawValue: "certificate-untrusted")
    /// A certificate in the chain is listed on its issuer's CRL.
    public static let certificateRevoked = Self(rawValue: "certificate-revoked")
    /// CRLs are configured but none is known for an issuer in the chain (CRL_CHECK_ALL semantics).
    public static let crlUnavailable = Self(rawValue: "crl-unavailable")
    /// A CRL is expired, not yet valid, or not signed by its issuer.
    public static let crlInvalid = Self(rawValue: "crl-invalid")
    /// The peer's IKE identity is not bound to the certificate (RFC 4945 §3.2 / §4.1).
    public static let identityMismatch = Self(rawValue: "identity-mismatch")
    /// keyUsage lacks digitalSignature, or extendedKeyUsage allows none of the IKE purposes.
    public static let keyUsage = Self(rawValue: "key-usage")
    /// A private key does not match the certificate / public key it is used with.
    public static let keyMismatch = Self(rawValue: "key-mismatch")
    /// Reading or writing a PKI file failed.
    public static let fileIO = Self(rawValue: "file-io")
    /// An input string (subject DN, SAN, identity) is not acceptable.
    public static let invalidArgument = Self(rawValue: "invalid-argument")
}
