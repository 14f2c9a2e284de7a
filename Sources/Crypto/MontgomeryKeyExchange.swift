import COpenSSL
import CryptoCore

// RFC 8031 §2–3 (IKEv2 with Curve25519 and Curve448, groups 31 and 32), using RFC 7748 X25519/X448.

/// X25519 / X448 key exchange. The KE payload carries the raw little-endian u coordinate
/// (RFC 8031 §3.1) and the shared secret is the raw X25519/X448 output (§2).
///
/// Not `Sendable`: owns an OpenSSL key object; keep it inside the exchange that created it.
final class MontgomeryKeyExchange: KeyExchange {
    let group: KeyExchangeGroup
    let publicValue: [UInt8]
    private let nid: Int32
    private let key: OpaquePointer   // EVP_PKEY

    private static func nid(_ group: KeyExchangeGroup) throws(CryptoError) -> Int32 {
        switch group {
        case .curve25519: EVP_PKEY_X25519
        case .curve448: EVP_PKEY_X448
        default: throw CryptoError(.unsupportedAlgorithm, "group \(group.rawValue) is not X25519/X448")
        }
    }

    /// Any 32 (56) random bytes are a valid scalar: X25519/X448 clamp it (RFC 7748 §5).
    convenience init<R: RandomSource>(group: KeyExchangeGroup, random: inout R) throws(CryptoError) {
        try self.init(group: group, privateKey: try random.secureBytes(group.publicValueLength))
    }

    init(group: KeyExchangeGroup, privateKey: SecureBytes) throws(CryptoError) {
        let nid = try Self.nid(group)
        guard privateKey.count == group.publicValueLength else {
            throw CryptoError(.invalidKeyLength, "group \(group.rawValue) private key is \(privateKey.count) bytes, expected \(group.publicValueLength)")
        }
        // A wiped scratch copy: a key pointer created inside SecureBytes' closure could not leave it.
        var scalar = privateKey.withUnsafeBytes { Array($0) }
        defer { SecureBytes.wipe(&scalar) }
        guard let key = EVP_PKEY_new_raw_private_key(nid, nil, scalar, scalar.count) else {
            throw OpenSSL.error(.library, "EVP_PKEY_new_raw_private_key")
        }
        var pub = [UInt8](repeating: 0, count: group.publicValueLength)
        var length = pub.count
        guard EVP_PKEY_get_raw_public_key(key, &pub, &length) == 1, length == pub.count else {
            EVP_PKEY_free(key)
            throw OpenSSL.error(.library, "EVP_PKEY_get_raw_public_key")
        }
        self.group = group
        self.nid = nid
        self.key = key
        self.publicValue = pub
    }

    deinit { EVP_PKEY_free(key) }

    // RFC 8031 §2.3 / RFC 7748 §6: an all-zero output means the peer sent a small-order point.
    func sharedSecret(peerPublicValue: [UInt8]) throws(CryptoError) -> SecureBytes {
        guard peerPublicValue.count == group.publicValueLength else {
            throw CryptoError(.invalidPublicValue, "group \(group.rawValue) public value is \(peerPublicValue.count) bytes, expected \(group.publicValueLength)")
        }
        guard let peer = EVP_PKEY_new_raw_public_key(nid, nil, peerPublicValue, peerPublicValue.count) else {
            throw OpenSSL.error(.invalidPublicValue, "EVP_PKEY_new_raw_public_key")
        }
        defer { EVP_PKEY_free(peer) }
        let secret: SecureBytes
        do {
            secret = try CryptoPrimitiveHelpers.derive(ours: key, peer: peer, padDH: false, derivationFailure: .invalidPublicValue)
        } catch {
            // OpenSSL itself refuses an all-zero result; report it as the RFC 7748 check it is.
            throw CryptoError(error.code, "small-order or invalid public value: \(error.message)")
        }
        let zero = secret.withUnsafeBytes { CryptoPrimitiveHelpers.isAllZero($0) }
        guard !zero, secret.count == group.publicValueLength else {
            throw CryptoError(.invalidPublicValue, "X25519/X448 shared secret is all zero (small-order public value)")
        }
        return secret
    }
}
