/// One side of one Diffie-Hellman exchange (RFC 7296 §1.2, §2.17, §2.18): holds an ephemeral
/// private key, offers its public value for the KE payload, and derives g^ir from the peer's.
///
/// Instances are single-use by intent (ephemeral keys, RFC 7296 §2.12 allows reuse but Viaduct
/// does not) and are not `Sendable`: they wrap library key objects; keep one inside the actor
/// that runs the exchange.
/// For a KEM (`group.isKEM`, ML-KEM) this is the initiator's side only: `publicValue` is the
/// encapsulation key and `sharedSecret(peerPublicValue:)` decapsulates the responder's
/// ciphertext. The responder's side of any group is `CryptoProvider.respondToKeyExchange`.
public protocol KeyExchange {
    var group: KeyExchangeGroup { get }

    /// The public value exactly as it goes into the KE payload's Key Exchange Data
    /// (`group.publicValueLength` bytes: MODP zero-padded to the prime's length, ECP x||y,
    /// X25519/X448 the u coordinate).
    var publicValue: [UInt8] { get }

    /// g^ir, in the form RFC 7296 §2.14 feeds to the PRF (MODP padded to the prime's length,
    /// ECP the x coordinate only per RFC 5903 §7, X25519/X448 per RFC 8031 §2).
    ///
    /// Throws `.invalidPublicValue` for any peer value RFC 6989 says to reject (wrong length,
    /// out of range, not on the curve, small order), so the caller can answer INVALID_KE_PAYLOAD
    /// or abort instead of keying an SA from an attacker-chosen secret.
    func sharedSecret(peerPublicValue: [UInt8]) throws(CryptoError) -> SecureBytes
}

/// The responder's half of one key exchange (RFC 7296 §1.2; RFC 9370 §2.2.2 for KEMs): the KE
/// data it sends back and the shared secret both ends now hold.
public struct KeyExchangeResponse {
    /// Diffie-Hellman: the responder's own public value; KEM: the ciphertext.
    public var value: [UInt8]
    public var sharedSecret: SecureBytes

    public init(value: [UInt8], sharedSecret: SecureBytes) {
        self.value = value
        self.sharedSecret = sharedSecret
    }
}
