import COpenSSL
import CryptoCore

// RFC 4106 §3–4, §8.1 (AES-GCM-16 for ESP), RFC 5282 §3 (the same in the IKEv2 SK payload) and
// RFC 7634 §2 (ChaCha20-Poly1305 for ESP and IKEv2): key material = key || 4-byte salt,
// nonce = salt || 8-byte explicit IV, 16-byte ICV.

/// AEAD over OpenSSL EVP. Holds one encrypt and one decrypt context, keyed once at creation, plus
/// a 12-byte nonce scratch with the salt already in place; a packet only sets the IV, feeds AAD
/// and data, and reads/checks the tag, in place on the caller's buffer — no allocation per call.
///
/// Not `Sendable`: both contexts are mutated by every call, and sharing one between threads
/// would interleave IVs and tags. Create one per SA direction (or per worker thread).
final class OpenSSLAEADCipher: AEADCipher {
    let algorithm: EncryptionAlgorithm
    let ivLength = 8
    let tagLength = 16
    private static let saltLength = 4
    private let encryptor: OpaquePointer   // EVP_CIPHER_CTX
    private let decryptor: OpaquePointer
    private let nonce: UnsafeMutableRawBufferPointer   // salt || IV
    /// The built-in method table both contexts run on (freed after them), or nil when they use
    /// the provider's implementation (see `viaduct_aead_method` in COpenSSL).
    private let method: OpaquePointer?

    /// True when this cipher runs on OpenSSL's built-in method table (the fast path).
    var usesBuiltInMethod: Bool { method != nil }

    static func cipherName(_ algorithm: EncryptionAlgorithm) throws(CryptoError) -> String {
        switch algorithm {
        case .aesGCM16(let bits) where [128, 192, 256].contains(bits): "AES-\(bits)-GCM"
        case .chacha20Poly1305: "ChaCha20-Poly1305"
        default: throw CryptoError(.unsupportedAlgorithm, "\(algorithm) is not a supported AEAD")
        }
    }

    /// OpenSSL's object identifier of the cipher, for its built-in method table.
    static func cipherNID(_ algorithm: EncryptionAlgorithm) -> Int32? {
        switch algorithm {
        case .aesGCM16(128): NID_aes_128_gcm
        case .aesGCM16(192): NID_aes_192_gcm
        case .aesGCM16(256): NID_aes_256_gcm
        case .chacha20Poly1305: NID_chacha20_poly1305
        default: nil
        }
    }

    /// On OpenSSL's built-in method table where available (the fast path), else the provider's.
    convenience init(algorithm: EncryptionAlgorithm, key: SecureBytes) throws(CryptoError) {
        try self.init(algorithm: algorithm, key: key, builtInMethod: true)
    }

    /// `builtInMethod`: run on OpenSSL's built-in method table when it is available (see
    /// `viaduct_aead_method`); false always uses the provider (for tests that compare the two).
    init(algorithm: EncryptionAlgorithm, key: SecureBytes, builtInMethod: Bool) throws(CryptoError) {
        let name = try Self.cipherName(algorithm)
        guard key.count == algorithm.keyMaterialLength else {
            throw CryptoError(.invalidKeyLength, "\(name) key material is \(key.count) bytes, expected \(algorithm.keyMaterialLength) (key || 4-byte salt)")
        }
        let keyRange = 0..<(key.count - Self.saltLength)
        let method = builtInMethod ? Self.cipherNID(algorithm).flatMap { viaduct_aead_method($0) } : nil
        let encryptor: OpaquePointer
        let decryptor: OpaquePointer
        do throws(CryptoError) {
            encryptor = try CryptoPrimitiveHelpers.cipherContext(name: name, key: key, keyRange: keyRange, encrypt: true,
                                                                 padding: nil, method: method)
            do throws(CryptoError) {
                decryptor = try CryptoPrimitiveHelpers.cipherContext(name: name, key: key, keyRange: keyRange, encrypt: false,
                                                                     padding: nil, method: method)
            } catch {
                EVP_CIPHER_CTX_free(encryptor)
                throw error
            }
        } catch {
            if let method { viaduct_aead_method_free(method) }
            throw error
        }
        let nonce = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.saltLength + 8, alignment: 8)
        nonce.initializeMemory(as: UInt8.self, repeating: 0)
        key.withUnsafeBytes { bytes in
            nonce.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - Self.saltLength)...]))
        }
        self.algorithm = algorithm
        self.encryptor = encryptor
        self.decryptor = decryptor
        self.nonce = nonce
        self.method = method
    }

    deinit {
        EVP_CIPHER_CTX_free(encryptor)   // cleanses the key schedule
        EVP_CIPHER_CTX_free(decryptor)
        if let method { viaduct_aead_method_free(method) }   // only after the contexts that use it
        SecureBytes.wipe(nonce)          // the salt is key material
        nonce.deallocate()
    }

    func seal(iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
              buffer: UnsafeMutableRawBufferPointer, plaintextCount: Int) throws(CryptoError) -> Int {
        guard plaintextCount >= 0, buffer.count >= plaintextCount + tagLength, let base = buffer.baseAddress else {
            throw CryptoError(.bufferTooSmall, "seal needs \(plaintextCount) + \(tagLength) bytes, buffer has \(buffer.count)")
        }
        try start(encryptor, iv: iv, aad: aad, encrypt: true)
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        if plaintextCount > 0 {
            let n = try CryptoPrimitiveHelpers.int32(plaintextCount, "plaintext")
            guard EVP_CipherUpdate(encryptor, bytes, &written, bytes, n) == 1, written == n else {
                throw OpenSSL.error(.library, "AEAD encrypt")
            }
        }
        guard EVP_CipherFinal_ex(encryptor, bytes + plaintextCount, &written) == 1,
              EVP_CIPHER_CTX_ctrl(encryptor, EVP_CTRL_AEAD_GET_TAG, Int32(tagLength), bytes + plaintextCount) == 1 else {
            throw OpenSSL.error(.library, "AEAD tag")
        }
        return plaintextCount + tagLength
    }

    func open(iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
              buffer: UnsafeMutableRawBufferPointer, ciphertextCount: Int) throws(CryptoError) -> Int {
        guard ciphertextCount >= tagLength else {
            throw CryptoError(.truncated, "AEAD input of \(ciphertextCount) bytes is shorter than the \(tagLength)-byte ICV")
        }
        guard buffer.count >= ciphertextCount, let base = buffer.baseAddress else {
            throw CryptoError(.bufferTooSmall, "open of \(ciphertextCount) bytes, buffer has \(buffer.count)")
        }
        let plaintextCount = ciphertextCount - tagLength
        try start(decryptor, iv: iv, aad: aad, encrypt: false)
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        if plaintextCount > 0 {
            let n = try CryptoPrimitiveHelpers.int32(plaintextCount, "ciphertext")
            guard EVP_CipherUpdate(decryptor, bytes, &written, bytes, n) == 1, written == n else {
                throw OpenSSL.error(.library, "AEAD decrypt")
            }
        }
        guard EVP_CIPHER_CTX_ctrl(decryptor, EVP_CTRL_AEAD_SET_TAG, Int32(tagLength), bytes + plaintextCount) == 1 else {
            throw OpenSSL.error(.library, "AEAD set tag")
        }
        guard EVP_CipherFinal_ex(decryptor, bytes + plaintextCount, &written) == 1 else {
            OpenSSL.clearErrors()
            SecureBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<plaintextCount]))
            throw CryptoError(.authenticationFailed, "AEAD ICV mismatch")
        }
        return plaintextCount
    }

    /// Sets the per-packet nonce (salt || IV) and feeds the AAD.
    private func start(_ ctx: OpaquePointer, iv: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, encrypt: Bool) throws(CryptoError) {
        guard iv.count == ivLength else {
            throw CryptoError(.malformed, "AEAD IV is \(iv.count) bytes, expected \(ivLength)")
        }
        UnsafeMutableRawBufferPointer(rebasing: nonce[Self.saltLength...]).copyMemory(from: iv)
        guard EVP_CipherInit_ex2(ctx, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), encrypt ? 1 : 0, nil) == 1 else {
            throw OpenSSL.error(.library, "AEAD nonce")
        }
        if aad.count > 0, let aadBase = aad.baseAddress {
            var written: Int32 = 0
            let n = try CryptoPrimitiveHelpers.int32(aad.count, "AAD")
            guard EVP_CipherUpdate(ctx, nil, &written, aadBase.assumingMemoryBound(to: UInt8.self), n) == 1 else {
                throw OpenSSL.error(.library, "AEAD AAD")
            }
        }
    }
}
