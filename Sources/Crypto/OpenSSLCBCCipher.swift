import COpenSSL
import CryptoCore

// RFC 3602 (AES-CBC in ESP), RFC 7296 §3.14 (IKE SK payload) and, for completeness, 3DES-CBC
// (RFC 2451; deprecated by RFC 8221 / RFC 8247).

/// CBC encryption without padding (the protocols pad themselves). One encrypt and one decrypt
/// context keyed once (AES decryption needs its own key schedule), re-IV'd per packet, in place.
///
/// Not `Sendable`: contexts are mutated by every call; one instance per SA direction/thread.
final class OpenSSLCBCCipher: CBCCipher {
    let algorithm: EncryptionAlgorithm
    let blockSize: Int
    private let encryptor: OpaquePointer
    private let decryptor: OpaquePointer

    static func cipherName(_ algorithm: EncryptionAlgorithm) throws(CryptoError) -> String {
        switch algorithm {
        case .aesCBC(let bits) where [128, 192, 256].contains(bits): "AES-\(bits)-CBC"
        case .tripleDES: "DES-EDE3-CBC"
        default: throw CryptoError(.unsupportedAlgorithm, "\(algorithm) is not a supported CBC cipher")
        }
    }

    init(algorithm: EncryptionAlgorithm, key: SecureBytes) throws(CryptoError) {
        let name = try Self.cipherName(algorithm)
        guard key.count == algorithm.keyMaterialLength else {
            throw CryptoError(.invalidKeyLength, "\(name) key is \(key.count) bytes, expected \(algorithm.keyMaterialLength)")
        }
        let encryptor = try CryptoPrimitiveHelpers.cipherContext(name: name, key: key, keyRange: 0..<key.count, encrypt: true, padding: false)
        do {
            self.decryptor = try CryptoPrimitiveHelpers.cipherContext(name: name, key: key, keyRange: 0..<key.count, encrypt: false, padding: false)
        } catch {
            EVP_CIPHER_CTX_free(encryptor)
            throw error
        }
        self.encryptor = encryptor
        self.algorithm = algorithm
        self.blockSize = algorithm.blockSize
    }

    deinit {
        EVP_CIPHER_CTX_free(encryptor)
        EVP_CIPHER_CTX_free(decryptor)
    }

    var ivLength: Int { blockSize }

    func encrypt(iv: UnsafeRawBufferPointer, buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try run(encryptor, iv: iv, buffer: buffer, encrypt: true)
    }

    func decrypt(iv: UnsafeRawBufferPointer, buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try run(decryptor, iv: iv, buffer: buffer, encrypt: false)
    }

    private func run(_ ctx: OpaquePointer, iv: UnsafeRawBufferPointer, buffer: UnsafeMutableRawBufferPointer, encrypt: Bool) throws(CryptoError) {
        guard iv.count == blockSize else {
            throw CryptoError(.malformed, "CBC IV is \(iv.count) bytes, expected \(blockSize)")
        }
        guard buffer.count % blockSize == 0 else {
            throw CryptoError(.malformed, "CBC input of \(buffer.count) bytes is not a multiple of \(blockSize)")
        }
        guard EVP_CipherInit_ex2(ctx, nil, nil, iv.baseAddress?.assumingMemoryBound(to: UInt8.self), encrypt ? 1 : 0, nil) == 1 else {
            throw OpenSSL.error(.library, "CBC IV")
        }
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let n = try CryptoPrimitiveHelpers.int32(buffer.count, "CBC input")
        var written: Int32 = 0
        guard EVP_CipherUpdate(ctx, bytes, &written, bytes, n) == 1, written == n,
              EVP_CipherFinal_ex(ctx, bytes + buffer.count, &written) == 1, written == 0 else {
            throw OpenSSL.error(.library, "CBC \(encrypt ? "encrypt" : "decrypt")")
        }
    }
}
