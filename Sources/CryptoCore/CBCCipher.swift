/// A non-AEAD block cipher in CBC mode keyed for one SA direction: AES-CBC (RFC 3602) or 3DES.
/// Always paired with an `IntegrityMAC` (encrypt-then-MAC, RFC 4303 §3.3.2, RFC 7296 §3.14).
///
/// No padding is added or removed here: ESP (RFC 4303 §2.4) and the SK payload (RFC 7296 §3.14)
/// have their own padding formats, which the caller writes before `encrypt`.
/// In place, allocation-free per call, not `Sendable` (keyed contexts are mutated per call).
public protocol CBCCipher {
    var algorithm: EncryptionAlgorithm { get }
    /// Cipher block size; `buffer.count` must be a multiple of it.
    var blockSize: Int { get }
    /// The explicit IV length carried in each packet (equals the block size).
    var ivLength: Int { get }

    func encrypt(iv: UnsafeRawBufferPointer, buffer: UnsafeMutableRawBufferPointer) throws(CryptoError)
    func decrypt(iv: UnsafeRawBufferPointer, buffer: UnsafeMutableRawBufferPointer) throws(CryptoError)
}
