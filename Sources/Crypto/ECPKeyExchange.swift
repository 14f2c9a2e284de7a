import COpenSSL
import CryptoCore

// RFC 5903 §7 (and RFC 7296 §3.4): ECP groups 19, 20, 21 — NIST P-256, P-384, P-521.

/// Elliptic-curve Diffie-Hellman with the RFC 5903 encodings: the KE payload carries x || y, each
/// zero-padded to the field size and without SEC1's 0x04 prefix; the shared secret is the x
/// coordinate of the shared point only, again padded to the field size.
///
/// Works on the EC_GROUP / EC_POINT level: the shared point is `EC_POINT_mul(group, Q, d)`, the
/// very call OpenSSL's own ECDH_compute_key makes (constant-time in the scalar: nistz256 for
/// P-256, the Montgomery ladder for P-384/P-521). Going through EVP_PKEY instead built two
/// provider keys per exchange (each re-creating the curve) and ran EVP_PKEY_public_check on
/// the peer, whose full check multiplies the point by the group order: together more
/// instructions than the ECDH itself (callgrind), for a check that adds nothing on these
/// prime-order curves once the point is known to be on the curve (below, RFC 6989 §2.3).
///
/// Not `Sendable`: owns OpenSSL objects; keep it inside the exchange that created it.
final class ECPKeyExchange: KeyExchange {
    let group: KeyExchangeGroup
    let publicValue: [UInt8]
    private let curve: OpaquePointer       // EC_GROUP
    private let scalar: OpaquePointer      // BIGNUM d, BN_FLG_CONSTTIME; cleared when freed
    private let fieldSize: Int

    private static func parameters(_ group: KeyExchangeGroup) throws(CryptoError) -> (nid: Int32, fieldSize: Int) {
        switch group {
        case .ecp256: (NID_X9_62_prime256v1, 32)
        case .ecp384: (NID_secp384r1, 48)
        case .ecp521: (NID_secp521r1, 66)
        default: throw CryptoError(.unsupportedAlgorithm, "group \(group.rawValue) is not an ECP group")
        }
    }

    /// Draws a scalar in [1, n-1] by rejection sampling (FIPS 186-4 B.4.2 style), so the result is
    /// uniform and comes from the injected `random`.
    convenience init<R: RandomSource>(group: KeyExchangeGroup, random: inout R) throws(CryptoError) {
        let fieldSize = try Self.parameters(group).fieldSize
        var lastError = CryptoError(.library, "no acceptable ECP private key drawn")
        for _ in 0..<64 {
            let candidate = try random.secureBytes(fieldSize)
            // P-521's field is 521 bits: keep the top byte to its one meaningful bit so a draw
            // lands below n about half the time instead of once in 2^7.
            let scalar = group == .ecp521
                ? candidate.withUnsafeBytes { bytes in
                    SecureBytes(count: bytes.count) { out in
                        out.copyMemory(from: bytes)
                        out[0] &= 0x01
                    }
                }
                : candidate
            do {
                try self.init(group: group, privateKey: scalar)
                return
            } catch where error.code == .invalidKeyLength {
                lastError = error
            }
        }
        throw lastError
    }

    /// Imports a big-endian scalar of exactly the field size (RFC 5903 §8 prints them that way).
    init(group: KeyExchangeGroup, privateKey: SecureBytes) throws(CryptoError) {
        let (nid, fieldSize) = try Self.parameters(group)
        guard privateKey.count == fieldSize else {
            throw CryptoError(.invalidKeyLength, "ECP group \(group.rawValue) private key is \(privateKey.count) bytes, expected \(fieldSize)")
        }
        guard let curve = EC_GROUP_new_by_curve_name(nid) else { throw OpenSSL.error(.library, "EC_GROUP_new_by_curve_name") }
        var owned = true
        defer { if owned { EC_GROUP_free(curve) } }
        let d = try CryptoPrimitiveHelpers.secretBignum(privateKey)
        defer { if owned { BN_clear_free(d) } }
        guard let order = EC_GROUP_get0_order(curve), BN_is_zero(d) == 0, BN_cmp(d, order) < 0 else {
            throw CryptoError(.invalidKeyLength, "ECP private key must satisfy 0 < d < n")
        }
        guard let point = EC_POINT_new(curve), let bnctx = BN_CTX_new() else { throw OpenSSL.error(.library, "EC_POINT_new") }
        defer { EC_POINT_free(point); BN_CTX_free(bnctx) }
        var encoded = [UInt8](repeating: 0, count: 1 + 2 * fieldSize)
        guard EC_POINT_mul(curve, point, d, nil, nil, bnctx) == 1,
              EC_POINT_point2oct(curve, point, POINT_CONVERSION_UNCOMPRESSED, &encoded, encoded.count, bnctx) == encoded.count else {
            throw OpenSSL.error(.library, "computing the ECP public point")
        }
        self.group = group
        self.curve = curve
        self.scalar = d
        self.fieldSize = fieldSize
        self.publicValue = Array(encoded.dropFirst())   // RFC 5903 §7: no 0x04 prefix
        owned = false
    }

    deinit {
        BN_clear_free(scalar)
        EC_GROUP_free(curve)
    }

    // RFC 6989 §2.3 / RFC 5903 §7: the peer's x || y must be a point on the curve and not the point
    // at infinity (which x || y cannot even encode; checked anyway). P-256, P-384 and P-521 have
    // prime order (cofactor 1), so every other point on the curve generates the whole group and
    // no small-subgroup check is needed.
    func sharedSecret(peerPublicValue: [UInt8]) throws(CryptoError) -> SecureBytes {
        guard peerPublicValue.count == 2 * fieldSize else {
            throw CryptoError(.invalidPublicValue, "ECP group \(group.rawValue) public value is \(peerPublicValue.count) bytes, expected \(2 * fieldSize)")
        }
        let encoded = [0x04] + peerPublicValue
        guard let peer = EC_POINT_new(curve), let shared = EC_POINT_new(curve), let bnctx = BN_CTX_new() else {
            throw OpenSSL.error(.library, "EC_POINT_new")
        }
        defer { EC_POINT_free(peer); EC_POINT_clear_free(shared); BN_CTX_free(bnctx) }
        guard EC_POINT_oct2point(curve, peer, encoded, encoded.count, bnctx) == 1,
              EC_POINT_is_at_infinity(curve, peer) == 0,
              EC_POINT_is_on_curve(curve, peer, bnctx) == 1 else {
            OpenSSL.clearErrors()
            throw CryptoError(.invalidPublicValue, "ECP public value is not a point on the curve")
        }
        guard EC_POINT_mul(curve, shared, nil, peer, scalar, bnctx) == 1,
              EC_POINT_is_at_infinity(curve, shared) == 0 else {
            OpenSSL.clearErrors()
            throw CryptoError(.invalidPublicValue, "ECDH with the peer's public value failed")
        }
        guard let x = BN_secure_new() ?? BN_new() else { throw OpenSSL.error(.library, "BN_new") }
        defer { BN_clear_free(x) }
        guard EC_POINT_get_affine_coordinates(curve, shared, x, nil, bnctx) == 1 else {
            throw OpenSSL.error(.library, "EC_POINT_get_affine_coordinates")
        }
        let size = try CryptoPrimitiveHelpers.int32(fieldSize, "ECDH secret")
        return try SecureBytes(count: fieldSize) { (out) throws(CryptoError) in
            // RFC 5903 §7: the x coordinate, left-padded to the field size.
            guard BN_bn2binpad(x, out.baseAddress?.assumingMemoryBound(to: UInt8.self), size) == size else {
                throw OpenSSL.error(.library, "BN_bn2binpad")
            }
        }
    }
}
