import COpenSSL
import CryptoCore

// RFC 7296 §3.4 / RFC 2409 §6.2 / RFC 3526: finite-field (MODP) Diffie-Hellman, groups 2, 5, 14, 15, 16.

/// MODP Diffie-Hellman with generator 2 over the RFC 2409 (group 2) and RFC 3526 (groups 5, 14,
/// 15, 16) primes. The primes come from OpenSSL's built-in copies of those RFCs
/// (`BN_get_rfc2409_prime_1024`, `BN_get_rfc3526_prime_*`) and are passed to the key explicitly,
/// one code path for all five groups, since OpenSSL has no named group for the 1024-bit prime.
///
/// Not `Sendable`: owns OpenSSL key objects; keep it inside the exchange that created it.
final class MODPKeyExchange: KeyExchange {
    let group: KeyExchangeGroup
    let publicValue: [UInt8]
    private let prime: OpaquePointer   // BIGNUM p
    private let key: OpaquePointer     // EVP_PKEY holding p, g, x, g^x

    /// Private exponent size used for fresh keys: 512 bits covers twice the strength of every
    /// supported group (RFC 3526 §8 suggests at most 2 × 240 bits for the 4096-bit group).
    static let generatedExponentBytes = 64

    static func prime(for group: KeyExchangeGroup) throws(CryptoError) -> OpaquePointer {
        let p: OpaquePointer?
        switch group {
        case .modp1024: p = BN_get_rfc2409_prime_1024(nil)
        case .modp1536: p = BN_get_rfc3526_prime_1536(nil)
        case .modp2048: p = BN_get_rfc3526_prime_2048(nil)
        case .modp3072: p = BN_get_rfc3526_prime_3072(nil)
        case .modp4096: p = BN_get_rfc3526_prime_4096(nil)
        default: throw CryptoError(.unsupportedAlgorithm, "group \(group.rawValue) is not a MODP group")
        }
        guard let p else { throw OpenSSL.error(.library, "loading the group \(group.rawValue) prime") }
        return p
    }

    /// Draws a private exponent from `random`.
    convenience init<R: RandomSource>(group: KeyExchangeGroup, random: inout R) throws(CryptoError) {
        var lastError = CryptoError(.library, "no acceptable MODP private key drawn")
        for _ in 0..<8 {
            let candidate = try random.secureBytes(Self.generatedExponentBytes)
            do {
                try self.init(group: group, privateKey: candidate)
                return
            } catch where error.code == .invalidKeyLength {
                lastError = error   // x outside [2, p-2]: astronomically unlikely, draw again
            }
        }
        throw lastError
    }

    /// Imports a big-endian private exponent x, 1 < x < p-1, and computes g^x mod p.
    init(group: KeyExchangeGroup, privateKey: SecureBytes) throws(CryptoError) {
        self.group = group
        let p = try Self.prime(for: group)
        var ownsPrime = true
        defer { if ownsPrime { BN_free(p) } }
        let x = try CryptoPrimitiveHelpers.secretBignum(privateKey)
        defer { BN_clear_free(x) }
        guard privateKey.count <= group.publicValueLength, try Self.isInsideOpenRange(x, prime: p) else {
            throw CryptoError(.invalidKeyLength, "MODP private exponent must satisfy 1 < x < p-1")
        }
        guard let g = BN_new(), let y = BN_new(), let bnctx = BN_CTX_new() else {
            throw OpenSSL.error(.library, "BN_new")
        }
        defer { BN_free(g); BN_free(y); BN_CTX_free(bnctx) }
        guard BN_set_word(g, 2) == 1, BN_mod_exp_mont_consttime(y, g, x, p, bnctx, nil) == 1 else {
            throw OpenSSL.error(.library, "computing g^x mod p")
        }
        var pub = [UInt8](repeating: 0, count: group.publicValueLength)
        guard BN_bn2binpad(y, &pub, Int32(pub.count)) == Int32(pub.count) else {
            throw OpenSSL.error(.library, "BN_bn2binpad")
        }
        self.publicValue = pub
        self.key = try CryptoPrimitiveHelpers.pkeyFromData(type: "DH", selection: viaduct_EVP_PKEY_KEYPAIR()) { bld in
            OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_FFC_P(), p) == 1 && OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_FFC_G(), g) == 1
                && OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_PRIV_KEY(), x) == 1 && OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_PUB_KEY(), y) == 1
        }
        self.prime = p
        ownsPrime = false
    }

    deinit {
        EVP_PKEY_free(key)
        BN_free(prime)
    }

    // RFC 6989 §2.1: the peer's y must satisfy 1 < y < p-1 (0, 1 and p-1 force a known secret).
    func sharedSecret(peerPublicValue: [UInt8]) throws(CryptoError) -> SecureBytes {
        guard peerPublicValue.count == group.publicValueLength else {
            throw CryptoError(.invalidPublicValue, "MODP group \(group.rawValue) public value is \(peerPublicValue.count) bytes, expected \(group.publicValueLength)")
        }
        let y = try peerPublicValue.withBytes { (b) throws(CryptoError) -> OpaquePointer in try CryptoPrimitiveHelpers.bignum(b) }
        defer { BN_free(y) }
        guard try Self.isInsideOpenRange(y, prime: prime) else {
            throw CryptoError(.invalidPublicValue, "MODP public value outside 1 < y < p-1")
        }
        guard let g = BN_new(), BN_set_word(g, 2) == 1 else { throw OpenSSL.error(.library, "BN_new") }
        defer { BN_free(g) }
        let peer = try CryptoPrimitiveHelpers.pkeyFromData(type: "DH", selection: viaduct_EVP_PKEY_PUBLIC_KEY()) { bld in
            OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_FFC_P(), prime) == 1 && OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_FFC_G(), g) == 1
                && OSSL_PARAM_BLD_push_BN(bld, viaduct_PARAM_PUB_KEY(), y) == 1
        }
        defer { EVP_PKEY_free(peer) }
        let secret = try CryptoPrimitiveHelpers.derive(ours: key, peer: peer, padDH: true, libraryValidatesPeer: false, derivationFailure: .invalidPublicValue)
        guard secret.count == group.publicValueLength else {
            throw CryptoError(.library, "MODP shared secret is \(secret.count) bytes, expected \(group.publicValueLength)")
        }
        return secret
    }

    /// 1 < v < p-1.
    private static func isInsideOpenRange(_ v: OpaquePointer, prime: OpaquePointer) throws(CryptoError) -> Bool {
        guard let pMinusOne = BN_dup(prime) else { throw OpenSSL.error(.library, "BN_dup") }
        defer { BN_free(pMinusOne) }
        guard BN_sub_word(pMinusOne, 1) == 1 else { throw OpenSSL.error(.library, "BN_sub_word") }
        return BN_cmp(v, BN_value_one()) > 0 && BN_cmp(v, pMinusOne) < 0
    }
}
