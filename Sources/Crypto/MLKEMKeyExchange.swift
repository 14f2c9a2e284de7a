// FIPS 203 (ML-KEM) as IKEv2 key exchange methods 36 and 37 (draft-ietf-ipsecme-ikev2-mlkem §2–3,
// used alone or as an RFC 9370 additional key exchange).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CryptoCore
import enum Crypto.KEM
import enum Crypto.MLKEM768
import enum Crypto.MLKEM1024
import struct Crypto.SymmetricKey

/// The initiator's side of ML-KEM-768 / ML-KEM-1024: an ephemeral decapsulation key from a
/// 64-byte seed (d || z, FIPS 203 §7.1) drawn from the caller's random source. The KE payload
/// carries the encapsulation key; the responder's KE payload carries the ciphertext, which
/// `sharedSecret(peerPublicValue:)` decapsulates into the 32-byte shared secret K.
///
/// swift-crypto's BoringSSL implementation does the work, including FIPS 203 §7.2's check of
/// the encapsulation key (every coefficient below q) when the responder parses it, and implicit
/// rejection (§6.3) for a ciphertext that does not decrypt: a wrong ciphertext yields a secret
/// the two ends do not share, and the AUTH exchange then fails.
///
/// Not `Sendable`: holds private key material; keep it inside the exchange that created it.
final class MLKEMKeyExchange: KeyExchange {
    private enum DecapsulationKey {
        case mlkem768(MLKEM768.PrivateKey)
        case mlkem1024(MLKEM1024.PrivateKey)
    }

    static let seedLength = 64

    let group: KeyExchangeGroup
    let publicValue: [UInt8]
    private let key: DecapsulationKey

    convenience init<R: RandomSource>(group: KeyExchangeGroup, random: inout R) throws(CryptoError) {
        try self.init(group: group, privateKey: try random.secureBytes(Self.seedLength))
    }

    init(group: KeyExchangeGroup, privateKey seed: SecureBytes) throws(CryptoError) {
        guard seed.count == Self.seedLength else {
            throw CryptoError(.invalidKeyLength, "an ML-KEM seed is \(Self.seedLength) bytes (d || z), not \(seed.count)")
        }
        var seedData = seed.withUnsafeBytes { Data($0) }
        defer { seedData.resetBytes(in: 0..<seedData.count) }  // the key object keeps its own copy
        do {
            switch group {
            case .mlkem768:
                let k = try MLKEM768.PrivateKey(seedRepresentation: seedData, publicKey: nil)
                key = .mlkem768(k)
                publicValue = Array(k.publicKey.rawRepresentation)
            case .mlkem1024:
                let k = try MLKEM1024.PrivateKey(seedRepresentation: seedData, publicKey: nil)
                key = .mlkem1024(k)
                publicValue = Array(k.publicKey.rawRepresentation)
            default:
                throw CryptoError(.unsupportedAlgorithm, "group \(group.rawValue) is not ML-KEM")
            }
        } catch let e as CryptoError {
            throw e
        } catch {
            throw CryptoError(.library, "ML-KEM key generation: \(error)")
        }
        self.group = group
    }

    /// Decapsulates the responder's ciphertext. Only its length can be refused here (§7.3's
    /// input check); a well-sized wrong ciphertext yields the implicit-rejection secret.
    func sharedSecret(peerPublicValue ciphertext: [UInt8]) throws(CryptoError) -> SecureBytes {
        guard ciphertext.count == group.responderValueLength else {
            throw CryptoError(.invalidPublicValue, "ML-KEM ciphertext is \(ciphertext.count) bytes, expected \(group.responderValueLength)")
        }
        let secret: SymmetricKey
        do {
            switch key {
            case .mlkem768(let k): secret = try k.decapsulate(ciphertext)
            case .mlkem1024(let k): secret = try k.decapsulate(ciphertext)
            }
        } catch {
            throw CryptoError(.invalidPublicValue, "ML-KEM decapsulation failed: \(error)")
        }
        return secret.withUnsafeBytes { SecureBytes(copying: $0) }
    }

    /// The responder's side: encapsulates to the initiator's key. The key's length and FIPS 203
    /// §7.2 modulus check are enforced; a key that fails them is `.invalidPublicValue`.
    static func encapsulate(group: KeyExchangeGroup, to encapsulationKey: [UInt8]) throws(CryptoError) -> KeyExchangeResponse {
        guard encapsulationKey.count == group.publicValueLength else {
            throw CryptoError(.invalidPublicValue, "ML-KEM encapsulation key is \(encapsulationKey.count) bytes, expected \(group.publicValueLength)")
        }
        let result: KEM.EncapsulationResult
        do {
            switch group {
            case .mlkem768: result = try MLKEM768.PublicKey(rawRepresentation: encapsulationKey).encapsulate()
            case .mlkem1024: result = try MLKEM1024.PublicKey(rawRepresentation: encapsulationKey).encapsulate()
            default: throw CryptoError(.unsupportedAlgorithm, "group \(group.rawValue) is not ML-KEM")
            }
        } catch let e as CryptoError {
            throw e
        } catch {
            throw CryptoError(.invalidPublicValue, "ML-KEM encapsulation key refused (FIPS 203 §7.2): \(error)")
        }
        return KeyExchangeResponse(value: Array(result.encapsulated),
                                   sharedSecret: result.sharedSecret.withUnsafeBytes { SecureBytes(copying: $0) })
    }
}
