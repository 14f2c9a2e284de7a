import COpenSSL
import CryptoCore

// RFC 5903 §7 (and RFC 7296 §3.4): ECP groups 19, 20, 21 — NIST P-256, P-384, P-521.

/// Elliptic-curve Diffie-Hellman with the RFC 5903 encodings: the KE payload carries x || y, each
/// zero-padded to the field size and without SEC1's 0x04 prefix; the shared secret is the x
/// coordinate of the shared point only, again padded to the field size.
///
/// Not `Sendable`: owns OpenSSL key objects; keep it inside the exchange that created it.
final class ECPKeyExchange: KeyExchange {
    let group: KeyExchangeGroup
    let publicValue: [UInt8]
    private let curve: OpaquePointer      // EC_GROUP
    private let key: OpaquePointer        // EVP_PKEY
    private let curveName: String
    private let fieldSize: Int

    private static func parameters(_ group: KeyExchangeGroup) throws(CryptoError) -> (nid: Int32, name: String, fieldSize: Int) {
        switch group {
        case .ecp256: (NID_X9_62_prime256v1, "prime256v1", 32)
        case .ecp384: (NID_secp384r1, "secp384r1", 48)
        case .ecp521: (NID_secp521r1, "secp521r1", 66)
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
        let (nid, name, fieldSize) = try Self.parameters(group)
        guard privateKey.count == fieldSize else {
            throw CryptoError(.invalidKeyLength, "ECP group \(group.rawValue) private key is \(privateKey.count) bytes, expected \(fieldSize)")
        }
        guard let curve = EC_GROUP_new_by_curve_name(nid) else { throw OpenSSL.error(.library, "EC_GROUP_new_by_curve_name") }
        var ownsCurve = true
        defer { if ownsCurve { EC_GROUP_free(curve) } }
        let d = try CryptoPrimitiveHelpers.secretBignum(privateKey)
        defer { BN_clear_free(d) }
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
        self.key = try Self.pkey(curveName: name, encodedPoint: encoded, privateScalar: d)
        self.group = group
        self.curve = curve
        self.curveName = name
        self.fieldSize = fieldSize
        self.publicValue = Array(encoded.dropFirst())   // RFC 5903 §7: no 0x04 prefix
        ownsCurve = false
    }

    deinit {
        EVP_PKEY_free(key)
        EC_GROUP_free(curve)
    }

    /// OSSL_PARAM_BLD keeps the string and octet pointers until `to_param`, so both are pinned
    /// for the whole build rather than bridged per call.
    private static func pkey(curveName: String, encodedPoint: [UInt8], privateScalar: OpaquePointer?) throws(CryptoError) -> OpaquePointer {
        let selection = privateScalar == nil ? viaduct_EVP_PKEY_PUBLIC_KEY() : viaduct_EVP_PKEY_KEYPAIR()
        let outcome: Result<OpaquePointer, CryptoError> = curveName.withCString { name in
            encodedPoint.withUnsafeBytes { point in
                Result { () throws(CryptoError) -> OpaquePointer in
                    try CryptoPrimitiveHelpers.pkeyFromData(type: "EC", selection: selection) { bld in
                        OSSL_PARAM_BLD_push_utf8_string(bld, viaduct_PARAM_GROUP_NAME(), name, 0) == 1
                            && (privateScalar.map { OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_PRIV_KEY(), $0) == 1 } ?? true)
                            && OSSL_PARAM_BLD_push_octet_string(bld, viaduct_PARAM_PUB_KEY(), point.baseAddress, point.count) == 1
                    }
                }
            }
        }
        return try outcome.get()
    }

    // RFC 6989 §2.3 / RFC 5903 §7: the peer's x || y must be a point on the curve and not the point
    // at infinity (which x || y cannot even encode; checked anyway).
    func sharedSecret(peerPublicValue: [UInt8]) throws(CryptoError) -> SecureBytes {
        guard peerPublicValue.count == 2 * fieldSize else {
            throw CryptoError(.invalidPublicValue, "ECP group \(group.rawValue) public value is \(peerPublicValue.count) bytes, expected \(2 * fieldSize)")
        }
        let encoded = [0x04] + peerPublicValue
        guard let point = EC_POINT_new(curve), let bnctx = BN_CTX_new() else { throw OpenSSL.error(.library, "EC_POINT_new") }
        defer { EC_POINT_free(point); BN_CTX_free(bnctx) }
        guard EC_POINT_oct2point(curve, point, encoded, encoded.count, bnctx) == 1,
              EC_POINT_is_at_infinity(curve, point) == 0,
              EC_POINT_is_on_curve(curve, point, bnctx) == 1 else {
            OpenSSL.clearErrors()
            throw CryptoError(.invalidPublicValue, "ECP public value is not a point on the curve")
        }
        let peer = try Self.pkey(curveName: curveName, encodedPoint: encoded, privateScalar: nil)
        defer { EVP_PKEY_free(peer) }
        let secret = try CryptoPrimitiveHelpers.derive(ours: key, peer: peer, padDH: false, derivationFailure: .invalidPublicValue)
        guard secret.count == fieldSize else {
            throw CryptoError(.library, "ECDH produced \(secret.count) bytes, expected \(fieldSize)")
        }
        return secret
    }
}
