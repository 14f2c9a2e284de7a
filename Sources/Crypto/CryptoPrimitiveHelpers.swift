import COpenSSL
import CryptoCore

/// Small conversions shared by the primitive conformances. Internal: the X.509 work keeps its own.
enum CryptoPrimitiveHelpers {
    /// OpenSSL lengths are `Int32`; refuse anything that would not fit instead of truncating.
    static func int32(_ n: Int, _ what: String) throws(CryptoError) -> Int32 {
        guard n >= 0, n <= Int(Int32.max) else { throw CryptoError(.malformed, "\(what) length \(n) out of range") }
        return Int32(n)
    }

    /// A BIGNUM from big-endian bytes. The caller frees it (BN_clear_free for secrets).
    static func bignum(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) -> OpaquePointer {
        let length = try int32(bytes.count, "integer")
        guard let bn = BN_bin2bn(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), length, nil) else {
            throw OpenSSL.error(.library, "BN_bin2bn")
        }
        return bn
    }

    /// A secret BIGNUM (private exponent or scalar) read from key material. Allocated outside the
    /// `withUnsafeBytes` closure so no pointer has to cross the lock's `sending` boundary.
    /// The caller frees it with BN_clear_free.
    static func secretBignum(_ secret: SecureBytes) throws(CryptoError) -> OpaquePointer {
        guard let bn = BN_secure_new() ?? BN_new() else { throw OpenSSL.error(.library, "BN_new") }
        let length = try int32(secret.count, "integer")
        let ok = secret.withUnsafeBytes { bytes in
            BN_bin2bn(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), length, bn) != nil
        }
        guard ok else {
            BN_clear_free(bn)
            throw OpenSSL.error(.library, "BN_bin2bn")
        }
        BN_set_flags(bn, BN_FLG_CONSTTIME)
        return bn
    }

    /// An EVP_PKEY of `type` ("DH", "EC") built from the parameters `build` pushes.
    /// `build` returns false when a push failed.
    static func pkeyFromData(type: String, selection: Int32,
                             _ build: (OpaquePointer) -> Bool) throws(CryptoError) -> OpaquePointer {
        guard let bld = OSSL_PARAM_BLD_new() else { throw OpenSSL.error(.library, "OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(bld) }
        guard build(bld), let params = OSSL_PARAM_BLD_to_param(bld) else {
            throw OpenSSL.error(.library, "building \(type) key parameters")
        }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw OpenSSL.error(.library, "EVP_PKEY_CTX_new_from_name(\(type))")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1,
              EVP_PKEY_fromdata(ctx, &pkey, selection, params) == 1, let key = pkey else {
            throw OpenSSL.error(.invalidPublicValue, "EVP_PKEY_fromdata(\(type))")
        }
        return key
    }

    /// Runs the EVP derive step shared by every group. A peer the library refuses maps to
    /// `.invalidPublicValue`; `derivationFailure` says what a failed derive itself means (for
    /// X25519/X448 OpenSSL fails the derive on an all-zero result, i.e. a small-order point).
    ///
    /// `libraryValidatesPeer: false` is for MODP: OpenSSL's public check would re-validate the
    /// explicit p and g as FIPS 186-4 generated parameters (which the RFC 2409/3526 primes are not,
    /// so it fails); the caller has already done the RFC 6989 §2.1 range check, which is the
    /// complete check for these safe-prime groups.
    static func derive(ours: OpaquePointer, peer: OpaquePointer, padDH: Bool, libraryValidatesPeer: Bool = true,
                       derivationFailure: CryptoError.Code) throws(CryptoError) -> SecureBytes {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, ours, nil) else {
            throw OpenSSL.error(.library, "EVP_PKEY_CTX_new_from_pkey")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_derive_init(ctx) == 1 else { throw OpenSSL.error(.library, "EVP_PKEY_derive_init") }
        // RFC 7296 §2.14: g^ir is the full length of the modulus, leading zeros kept.
        if padDH, EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1 { throw OpenSSL.error(.library, "EVP_PKEY_CTX_set_dh_pad") }
        guard EVP_PKEY_derive_set_peer_ex(ctx, peer, libraryValidatesPeer ? 1 : 0) == 1 else {
            throw OpenSSL.error(.invalidPublicValue, "peer public value refused")
        }
        var length = 0
        guard EVP_PKEY_derive(ctx, nil, &length) == 1, length > 0 else {
            throw OpenSSL.error(derivationFailure, "EVP_PKEY_derive (size)")
        }
        var written = length
        let secret = try SecureBytes(count: length) { (out) throws(CryptoError) in
            guard EVP_PKEY_derive(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &written) == 1 else {
                throw OpenSSL.error(derivationFailure, "EVP_PKEY_derive")
            }
        }
        guard written == length else { throw CryptoError(.library, "EVP_PKEY_derive wrote \(written) of \(length) bytes") }
        return secret
    }

    /// A cipher context keyed once for one direction. `key` is the raw cipher key (no salt).
    /// Contexts are kept per SA and only re-IV'd per packet, which is what makes the per-packet
    /// path allocation-free.
    /// `padding`: nil leaves the context alone. AEAD callers pass nil: counter modes have no block
    /// padding, and an explicit setting costs ~390 instructions on every per-packet re-init in
    /// OpenSSL 3.0 (measured with callgrind: 6,930 vs 6,544 per 1,400-byte AES-256-GCM seal).
    /// `method`: a built-in method table to use instead of fetching `name` from a provider (see
    /// `viaduct_aead_method`); the caller keeps it alive until the context is freed.
    static func cipherContext(name: String, key: SecureBytes, keyRange: Range<Int>, encrypt: Bool,
                              padding: Bool?, method: OpaquePointer? = nil) throws(CryptoError) -> OpaquePointer {
        let fetched: OpaquePointer?
        if method == nil {
            guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else {
                throw OpenSSL.error(.unsupportedAlgorithm, "EVP_CIPHER_fetch(\(name))")
            }
            fetched = cipher
        } else {
            fetched = nil
        }
        defer { if let fetched { EVP_CIPHER_free(fetched) } }   // the context keeps its own reference
        guard let cipher = method ?? fetched else { throw OpenSSL.error(.unsupportedAlgorithm, name) }
        guard Int(EVP_CIPHER_get_key_length(cipher)) == keyRange.count else {
            throw CryptoError(.invalidKeyLength, "\(name) takes \(EVP_CIPHER_get_key_length(cipher))-byte keys, got \(keyRange.count)")
        }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSL.error(.library, "EVP_CIPHER_CTX_new") }
        let ok = key.withUnsafeBytes { bytes in
            EVP_CipherInit_ex2(ctx, cipher, bytes.baseAddress?.advanced(by: keyRange.lowerBound).assumingMemoryBound(to: UInt8.self),
                               nil, encrypt ? 1 : 0, nil) == 1
        }
        guard ok, padding.map({ EVP_CIPHER_CTX_set_padding(ctx, $0 ? 1 : 0) == 1 }) ?? true else {
            EVP_CIPHER_CTX_free(ctx)
            throw OpenSSL.error(.library, "EVP_CipherInit_ex2(\(name))")
        }
        return ctx
    }

    /// True when every byte is zero, examined in constant time.
    static func isAllZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var acc: UInt8 = 0
        for b in bytes { acc |= b }
        return acc == 0
    }
}
