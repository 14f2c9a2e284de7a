import CryptoCore

// RFC 4303 §3.3.2: an SA protects its packets either with a combined-mode algorithm (an AEAD:
// RFC 4106, RFC 7634) or with a cipher and a separate integrity algorithm, encrypt-then-MAC
// (AES-CBC, RFC 3602, with HMAC-SHA-2, RFC 4868).

/// How one direction of one SA protects its packets. Internal: the SAs build it from the
/// primitives their initializers receive.
enum ESPProtection {
    case aead(any AEADCipher)
    /// Encrypt-then-MAC; the outbound SA draws each packet's IV from an `ESPIVSource`.
    case cbc(any CBCCipher, any IntegrityMAC)

    /// Explicit IV bytes after SPI and sequence number.
    var ivLength: Int {
        switch self {
        case .aead(let c): c.ivLength
        case .cbc(let c, _): c.ivLength
        }
    }

    /// ICV bytes after the ciphertext.
    var icvLength: Int {
        switch self {
        case .aead(let c): c.tagLength
        case .cbc(_, let mac): mac.icvLength
        }
    }

    /// RFC 4303 §2.4: the plaintext (payload, padding, Pad Length, Next Header) is a whole number of
    /// cipher blocks, and ends on a 4-byte boundary; the AEADs here are stream ciphers (4).
    var blockSize: Int {
        switch self {
        case .aead: 4
        case .cbc(let c, _): max(4, c.blockSize)
        }
    }

    /// The AES-CBC SAs carry ESP with AES-CBC only (3DES is deprecated by RFC 8221 and not built
    /// here); the ICV must be one of RFC 4868's truncations of HMAC-SHA-2.
    static func checkCBC(_ cipher: any CBCCipher, _ integrity: any IntegrityMAC) throws(ESPError) {
        guard case .aesCBC = cipher.algorithm, cipher.ivLength == 16, cipher.blockSize == 16 else {
            throw ESPError(.invalidConfiguration, "ESP carries AES-CBC (RFC 3602) as its only non-AEAD cipher")
        }
        switch integrity.algorithm {
        case .hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256: break
        case .hmacMD5_96, .hmacSHA1_96:
            throw ESPError(.invalidConfiguration, "ESP with AES-CBC needs HMAC-SHA-256/384/512 (RFC 4868)")
        }
        guard integrity.icvLength == integrity.algorithm.icvLength else {
            throw ESPError(.invalidConfiguration, "ICV length does not match the integrity algorithm", value: integrity.icvLength)
        }
    }
}

/// Unpredictable IVs for CBC (RFC 3602 §2.4), drawn from a CSPRNG a page at a time: one call into
/// the random source per 256 packets instead of one per packet, and no allocation per packet.
/// The bytes are the source's output, used once each, in order.
final class ESPIVSource {
    private var random: any RandomSource
    private let pool: UnsafeMutableRawBufferPointer
    private var used: Int

    init(random: any RandomSource, poolSize: Int = 4096) {
        self.random = random
        self.pool = UnsafeMutableRawBufferPointer.allocate(byteCount: poolSize, alignment: 16)
        self.used = poolSize
    }

    deinit { pool.deallocate() }

    /// Fills `iv` (at most the pool size) with fresh random bytes.
    func fill(_ iv: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        if used + iv.count > pool.count {
            try random.fill(pool)
            used = 0
        }
        iv.copyMemory(from: UnsafeRawBufferPointer(rebasing: pool[used..<(used + iv.count)]))
        used += iv.count
    }
}
