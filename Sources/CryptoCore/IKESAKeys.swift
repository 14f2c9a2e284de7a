/// The seven IKE SA secrets of RFC 7296 §2.14, in the order prf+ produces them.
/// SK_ai / SK_ar are empty when the encryption algorithm is an AEAD (RFC 5282 §7).
public struct IKESAKeys: Sendable {
    /// Keys Child SAs and the next IKE SA rekey.
    public let skD: SecureBytes
    /// Integrity keys, initiator and responder sending direction.
    public let skAi: SecureBytes
    public let skAr: SecureBytes
    /// Encryption key material (cipher key followed by the salt for AEADs).
    public let skEi: SecureBytes
    public let skEr: SecureBytes
    /// Keys for the AUTH payload computation (§2.15).
    public let skPi: SecureBytes
    public let skPr: SecureBytes

    public init(skD: SecureBytes, skAi: SecureBytes, skAr: SecureBytes, skEi: SecureBytes,
                skEr: SecureBytes, skPi: SecureBytes, skPr: SecureBytes) {
        self.skD = skD
        self.skAi = skAi
        self.skAr = skAr
        self.skEi = skEi
        self.skEr = skEr
        self.skPi = skPi
        self.skPr = skPr
    }
}
