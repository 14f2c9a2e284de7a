import COpenSSL
import CryptoCore

/// One OpenSSL EVP_MAC HMAC context with its digest fixed, shared by the PRF (re-keyed per call)
/// and the integrity transforms (keyed once, restarted per packet).
///
/// Restarting with the same key (`restart`) does no Swift allocation; OpenSSL 3.0 itself may
/// duplicate its inner digest state on each HMAC re-init, which is outside our control.
/// Not `Sendable`: every operation mutates the context.
final class HMACContext {
    private let ctx: OpaquePointer    // EVP_MAC_CTX
    let outputLength: Int

    /// `outputLength` is the digest size: OpenSSL 3.0 cannot report the MAC size before a key is set.
    init(digest: String, outputLength: Int) throws(CryptoError) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw OpenSSL.error(.unsupportedAlgorithm, "EVP_MAC_fetch(HMAC)") }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else { throw OpenSSL.error(.library, "EVP_MAC_CTX_new") }
        var name = Array(digest.utf8CString)
        let ok = name.withUnsafeMutableBufferPointer { buf in
            var params = [OSSL_PARAM_construct_utf8_string(viaduct_PARAM_MAC_DIGEST(), buf.baseAddress, 0), OSSL_PARAM_construct_end()]
            return EVP_MAC_CTX_set_params(ctx, &params) == 1
        }
        guard ok else {
            EVP_MAC_CTX_free(ctx)
            throw OpenSSL.error(.unsupportedAlgorithm, "HMAC digest \(digest)")
        }
        self.ctx = ctx
        self.outputLength = outputLength
    }

    deinit { EVP_MAC_CTX_free(ctx) }   // cleanses the keyed state

    /// Keys (or re-keys) the context and starts a new MAC. An empty key is valid HMAC.
    func start(key: UnsafeRawBufferPointer) throws(CryptoError) {
        var empty: UInt8 = 0
        let ok = withUnsafeMutablePointer(to: &empty) { fallback in
            EVP_MAC_init(ctx, key.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(fallback), key.count, nil) == 1
        }
        guard ok else { throw OpenSSL.error(.library, "EVP_MAC_init") }
    }

    /// Starts a new MAC with the key already set.
    func restart() throws(CryptoError) {
        guard EVP_MAC_init(ctx, nil, 0, nil) == 1 else { throw OpenSSL.error(.library, "EVP_MAC_init") }
    }

    func update(_ data: UnsafeRawBufferPointer) throws(CryptoError) {
        guard let base = data.baseAddress, data.count > 0 else { return }
        guard EVP_MAC_update(ctx, base.assumingMemoryBound(to: UInt8.self), data.count) == 1 else {
            throw OpenSSL.error(.library, "EVP_MAC_update")
        }
    }

    /// Writes the full MAC; `output` must hold `outputLength` bytes.
    func finish(into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard output.count >= outputLength, let base = output.baseAddress else {
            throw CryptoError(.bufferTooSmall, "MAC output needs \(outputLength) bytes, got \(output.count)")
        }
        var written = 0
        guard EVP_MAC_final(ctx, base.assumingMemoryBound(to: UInt8.self), &written, output.count) == 1,
              written == outputLength else {
            throw OpenSSL.error(.library, "EVP_MAC_final")
        }
    }
}
