import COpenSSL
import ViaductCrypto
import CryptoCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private signing key. The key material lives only inside OpenSSL (an EVP_PKEY, whose free
/// clears the secret bignums/bytes); it never becomes a Swift `String` or array except transiently
/// while parsing, and those buffers are cleansed. `description` never shows material.
///
/// A class rather than a struct so that exactly one owner frees the key (`OpenSSLObject`).
/// `Sendable`: the key is immutable once parsed and only used through OpenSSL calls that are
/// safe on one key from several threads (signing); the daemon parses the node's key once and
/// every IKE session, on any thread, signs with the same object.
public final class PrivateKey: Sendable, CustomStringConvertible {
    private let key: OpenSSLObject
    public let algorithm: PublicKeyAlgorithm

    private init(owning pkey: OpaquePointer) throws {
        do {
            self.algorithm = try PublicKeyAlgorithm.of(pkey)
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
        self.key = OpenSSLObject(owning: pkey, kind: .privateKey)
    }

    /// Runs `body` with the key. Nothing ever modifies a parsed key: it is only read (signing,
    /// encoding, comparison), which OpenSSL allows from several threads at once, so the
    /// sessions of a node sign in parallel.
    func withEVP<R, E: Error>(_ body: (OpaquePointer) throws(E) -> sending R) throws(E) -> sending R {
        try key.withShared(body)
    }

    public var description: String { "PrivateKey(\(algorithm))" }

    /// Generates a fresh key with OpenSSL's DRBG (the shell's entropy source).
    public static func generate(_ type: KeyType) throws -> PrivateKey {
        let name: String
        switch type {
        case .ecdsaP256, .ecdsaP384, .ecdsaP521: name = "EC"
        case .rsa2048, .rsa3072, .rsa4096: name = "RSA"
        case .ed25519: name = "ED25519"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw OpenSSL.error(.library, "EVP_PKEY_CTX_new_from_name(\(name))")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw OpenSSL.error(.library, "keygen init") }
        switch type.algorithm {
        case .ecdsa(let curve):
            guard EVP_PKEY_CTX_set_group_name(ctx, curve.groupName) == 1 else { throw OpenSSL.error(.library, "set curve") }
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1 else { throw OpenSSL.error(.library, "set RSA bits") }
        case .ed25519:
            break
        }
        var out: OpaquePointer? = nil
        guard EVP_PKEY_keygen(ctx, &out) == 1, let pkey = out else { throw OpenSSL.error(.library, "keygen \(type)") }
        return try PrivateKey(owning: pkey)
    }

    /// Builds an Ed25519 key from its 32-byte seed (RFC 8032 §5.1.5 "private key"); for known-answer tests.
    public convenience init(ed25519Seed seed: [UInt8]) throws {
        guard seed.count == 32 else { throw CryptoError(.invalidKeyLength, "Ed25519 seed must be 32 bytes, got \(seed.count)") }
        guard let pkey = EVP_PKEY_new_raw_private_key(NID_ED25519, nil, seed, 32) else {
            throw OpenSSL.error(.library, "EVP_PKEY_new_raw_private_key")
        }
        try self.init(owning: pkey)
    }

    /// Parses a private key: PEM ("PRIVATE KEY" PKCS#8, "EC PRIVATE KEY" / "RSA PRIVATE KEY"
    /// traditional) or DER (PKCS#8 or traditional). Encrypted keys are refused, never prompted for.
    /// The caller should cleanse `bytes` afterwards (`load(path:)` does).
    public convenience init(bytes: [UInt8]) throws {
        let isPEM = bytes.starts(with: Array("-----BEGIN".utf8)) || Self.containsPEMHeader(bytes)
        let pkey: OpaquePointer
        if isPEM {
            let key = try X509Support.withReadBIO(bytes) { bio in viaduct_pem_read_private_key(bio) }
            guard let key else {
                let encrypted = Self.contains(bytes, "ENCRYPTED")
                OpenSSL.clearErrors()
                throw CryptoError(encrypted ? .unsupportedAlgorithm : .malformed,
                                  encrypted ? "encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out KEY.plain)"
                                            : "not a valid PEM private key")
            }
            pkey = key
        } else {
            do {
                pkey = try X509Support.d2i(bytes, "private key") { p, n in d2i_AutoPrivateKey(nil, p, n) }
            } catch {
                OpenSSL.clearErrors()
                throw CryptoError(.malformed, "not a valid DER private key (PKCS#8 or traditional)")
            }
        }
        try self.init(owning: pkey)
    }

    /// Loads a key file and cleanses the transient buffer.
    public static func load(path: String) throws -> PrivateKey {
        var bytes = try PKIFiles.read(path)
        defer { PKIFiles.cleanse(&bytes) }
        do {
            return try PrivateKey(bytes: bytes)
        } catch let e as CryptoError {
            throw CryptoError(e.code, "\(path): \(e.message)")
        }
    }

    /// Writes the key as unencrypted PKCS#8 PEM to a NEW file created with mode 0600 (never
    /// chmod-ed afterwards, so there is no window where it is readable). With `overwrite`, an
    /// existing file is unlinked first rather than truncated, so its old mode cannot leak in.
    public func write(toPath path: String, overwrite: Bool = false) throws {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSL.error(.library, "BIO_new") }
        defer { BIO_free(bio) }  // memory BIOs clear their buffer when freed
        guard withEVP({ PEM_write_bio_PrivateKey(bio, $0, nil, nil, 0, nil, nil) }) == 1 else {
            throw OpenSSL.error(.library, "PEM_write_bio_PrivateKey")
        }
        var ptr: UnsafeMutablePointer<CChar>? = nil
        let n = viaduct_bio_get_mem_data(bio, &ptr)
        guard n > 0, let p = ptr else { throw CryptoError(.library, "empty PEM output") }
        try PKIFiles.writeSecret(path: path, bytes: UnsafeRawBufferPointer(start: p, count: n), overwrite: overwrite)
    }

    /// The matching public key.
    public var publicKey: PublicKey {
        get throws { try withEVP { pkey throws -> PublicKey in try PublicKey(pkey: pkey) } }
    }

    /// True when this key is the private half of `publicKey` (EVP_PKEY_eq on the public parts).
    public func matches(_ publicKey: PublicKey) -> Bool {
        withEVP { pkey in publicKey.withEVP { EVP_PKEY_eq(pkey, $0) == 1 } }
    }

    private static func containsPEMHeader(_ bytes: [UInt8]) -> Bool { contains(bytes, "-----BEGIN ") }

    private static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return false }
        for i in 0...(bytes.count - n.count) where bytes[i] == n[0] && Array(bytes[i..<(i + n.count)]) == n {
            return true
        }
        return false
    }
}
