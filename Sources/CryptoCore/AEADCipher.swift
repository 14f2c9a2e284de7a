/// An AEAD transform keyed for one direction of one SA: AES-GCM-16 (RFC 4106 for ESP, RFC 5282
/// for the IKE SK payload) or ChaCha20-Poly1305 (RFC 7634).
///
/// Works in place on the caller's packet buffer and allocates nothing per call: this is the ESP
/// per-packet path. The nonce is the 4-byte salt from the key material followed by the 8-byte
/// explicit IV carried in the packet (RFC 4106 §4, RFC 7634 §2); the caller owns IV uniqueness
/// (the ESP sequence number is the usual choice).
///
/// Not `Sendable`: a keyed library context is mutated by every call. Give each SA direction (or
/// each worker thread) its own instance.
public protocol AEADCipher {
    var algorithm: EncryptionAlgorithm { get }
    /// Explicit IV bytes per packet (8).
    var ivLength: Int { get }
    /// ICV bytes appended after the ciphertext (16).
    var tagLength: Int { get }

    /// Encrypts `buffer[0..<plaintextCount]` in place and writes the tag right after it.
    /// `buffer` must hold `plaintextCount + tagLength` bytes. Returns `plaintextCount + tagLength`.
    func seal(iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
              buffer: UnsafeMutableRawBufferPointer, plaintextCount: Int) throws(CryptoError) -> Int

    /// Verifies and decrypts `buffer[0..<ciphertextCount]` (ciphertext then tag) in place.
    /// Returns the plaintext length. On `.authenticationFailed` the plaintext area is zeroed, so
    /// unauthenticated data can never be acted on by mistake.
    func open(iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
              buffer: UnsafeMutableRawBufferPointer, ciphertextCount: Int) throws(CryptoError) -> Int
}
