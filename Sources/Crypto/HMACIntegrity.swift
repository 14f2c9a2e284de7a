import COpenSSL
import CryptoCore

// RFC 4868 §2.1 (HMAC-SHA-256-128, HMAC-SHA-384-192, HMAC-SHA-512-256) and RFC 2403/2404
// (HMAC-MD5-96, HMAC-SHA1-96, weak): HMAC keyed with the full hash-length key, truncated to the
// leftmost icvLength bytes.

/// A keyed, truncated HMAC for ESP and the IKE SK payload. Keyed once per SA direction; each
/// packet only restarts the context. The full MAC is computed into a stack buffer, so no heap
/// allocation happens on the Swift side per packet.
///
/// Not `Sendable`: the keyed context is mutated per call; one instance per SA direction/thread.
final class HMACIntegrity: IntegrityMAC {
    let algorithm: IntegrityAlgorithm
    private let context: HMACContext

    private static func digestName(_ algorithm: IntegrityAlgorithm) -> String {
        switch algorithm {
        case .hmacMD5_96: "MD5"
        case .hmacSHA1_96: "SHA1"
        case .hmacSHA256_128: "SHA256"
        case .hmacSHA384_192: "SHA384"
        case .hmacSHA512_256: "SHA512"
        }
    }

    // RFC 4868 §2.1.1: the key is exactly the hash output length.
    init(algorithm: IntegrityAlgorithm, key: SecureBytes) throws(CryptoError) {
        guard key.count == algorithm.keyLength else {
            throw CryptoError(.invalidKeyLength, "\(algorithm) key is \(key.count) bytes, expected \(algorithm.keyLength)")
        }
        self.algorithm = algorithm
        let context = try HMACContext(digest: Self.digestName(algorithm), outputLength: algorithm.keyLength)
        let failure: CryptoError? = key.withUnsafeBytes { bytes in
            do throws(CryptoError) {
                try context.start(key: bytes)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        self.context = context
    }

    var icvLength: Int { algorithm.icvLength }

    func computeICV(over data: UnsafeRawBufferPointer, into icv: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard icv.count >= icvLength else {
            throw CryptoError(.bufferTooSmall, "ICV needs \(icvLength) bytes, got \(icv.count)")
        }
        try withFullMAC(over: data) { full in
            icv.copyMemory(from: UnsafeRawBufferPointer(rebasing: full[0..<icvLength]))
        }
    }

    func verifyICV(over data: UnsafeRawBufferPointer, icv: UnsafeRawBufferPointer) throws(CryptoError) {
        guard icv.count >= icvLength else {
            throw CryptoError(.truncated, "ICV is \(icv.count) bytes, expected \(icvLength)")
        }
        guard icv.count == icvLength else {
            throw CryptoError(.malformed, "ICV is \(icv.count) bytes, expected \(icvLength)")
        }
        let matches = try withFullMAC(over: data) { full in
            CRYPTO_memcmp(full.baseAddress, icv.baseAddress, icvLength) == 0
        }
        guard matches else { throw CryptoError(.authenticationFailed, "ICV mismatch") }
    }

    /// Runs `body` on the untruncated MAC held in a wiped stack buffer (at most 64 bytes).
    private func withFullMAC<T>(over data: UnsafeRawBufferPointer,
                                _ body: (UnsafeRawBufferPointer) -> T) throws(CryptoError) -> T {
        let size = context.outputLength
        let outcome: Result<T, CryptoError> = withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { full in
            defer { SecureBytes.wipe(full) }
            do throws(CryptoError) {
                try context.restart()
                try context.update(data)
                try context.finish(into: full)
                return .success(body(UnsafeRawBufferPointer(full)))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
