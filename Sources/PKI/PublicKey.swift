import COpenSSL
import ViaductCrypto
import CryptoCore

/// The NIST curves IKEv2 signatures use (RFC 4754, RFC 7427).
public enum ECCurve: String, Sendable, Hashable, CaseIterable {
    case p256 = "P-256"
    case p384 = "P-384"
    case p521 = "P-521"

    /// Bytes of one coordinate / of r and s in RFC 4754 raw signatures.
    public var coordinateSize: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }

    /// OpenSSL group name.
    var groupName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        }
    }

    init?(groupName: String) {
        switch groupName {
        case "P-256", "prime256v1", "secp256r1": self = .p256
        case "P-384", "secp384r1": self = .p384
        case "P-521", "secp521r1": self = .p521
        default: return nil
        }
    }
}

/// What kind of key a certificate or private key holds. Only the kinds IKEv2 signs with are
/// representable; anything else is rejected at parse time with `unsupported-algorithm`.
public enum PublicKeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    case ecdsa(ECCurve)
    case rsa(bits: Int)
    case ed25519

    public var description: String {
        switch self {
        case .ecdsa(let c): "ECDSA \(c.rawValue)"
        case .rsa(let bits): "RSA \(bits)"
        case .ed25519: "Ed25519"
        }
    }

    /// Classifies an EVP_PKEY.
    static func of(_ pkey: OpaquePointer) throws -> PublicKeyAlgorithm {
        switch EVP_PKEY_get_base_id(pkey) {
        case NID_X9_62_id_ecPublicKey:
            var buf = [CChar](repeating: 0, count: 64)
            var len = 0
            guard EVP_PKEY_get_group_name(pkey, &buf, buf.count, &len) == 1,
                  let curve = ECCurve(groupName: String(decoding: buf.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            else {
                OpenSSL.clearErrors()
                throw CryptoError(.unsupportedAlgorithm, "EC key on a curve other than P-256/P-384/P-521")
            }
            return .ecdsa(curve)
        case NID_rsaEncryption:
            let bits = Int(EVP_PKEY_get_bits(pkey))
            guard bits >= 1024 else { throw CryptoError(.unsupportedAlgorithm, "RSA key of \(bits) bits") }
            return .rsa(bits: bits)
        case NID_ED25519:
            return .ed25519
        case let other:
            throw CryptoError(.unsupportedAlgorithm, "key type \(String(cString: OBJ_nid2sn(other)))")
        }
    }
}

/// Key types Viaduct generates (`viaduct pki --key-type`). ECDSA P-256 is the default: small,
/// fast, and accepted everywhere (RFC 8247 §3.2 lists ECDSA/RSA/Ed25519 signatures).
public enum KeyType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ecdsaP256 = "ecdsa-p256"
    case ecdsaP384 = "ecdsa-p384"
    case ecdsaP521 = "ecdsa-p521"
    case rsa2048 = "rsa2048"
    case rsa3072 = "rsa3072"
    case rsa4096 = "rsa4096"
    case ed25519 = "ed25519"

    public var description: String { rawValue }

    public var algorithm: PublicKeyAlgorithm {
        switch self {
        case .ecdsaP256: .ecdsa(.p256)
        case .ecdsaP384: .ecdsa(.p384)
        case .ecdsaP521: .ecdsa(.p521)
        case .rsa2048: .rsa(bits: 2048)
        case .rsa3072: .rsa(bits: 3072)
        case .rsa4096: .rsa(bits: 4096)
        case .ed25519: .ed25519
        }
    }
}

/// A public key as its DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), with the OpenSSL key parsed
/// once and kept: verifying an AUTH signature used to re-decode the DER through OpenSSL 3's
/// provider decoders on every handshake. Equality and hashing are on the DER.
public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
    /// DER SubjectPublicKeyInfo.
    public let subjectPublicKeyInfo: [UInt8]
    public let algorithm: PublicKeyAlgorithm
    private let key: OpenSSLObject

    /// Parses a DER SubjectPublicKeyInfo.
    public init(subjectPublicKeyInfo der: [UInt8]) throws {
        let pkey = try X509Support.d2i(der, "public key") { p, n in d2i_PUBKEY(nil, p, n) }
        do {
            self.algorithm = try PublicKeyAlgorithm.of(pkey)
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
        self.subjectPublicKeyInfo = der
        self.key = OpenSSLObject(owning: pkey, kind: .publicKey)
    }

    /// From a key OpenSSL already holds; takes a new reference to it, so the caller keeps its own.
    init(pkey: OpaquePointer) throws {
        guard let der = X509Support.der({ i2d_PUBKEY(pkey, $0) }) else {
            throw OpenSSL.error(.library, "i2d_PUBKEY")
        }
        try self.init(subjectPublicKeyInfo: der, pkey: pkey)
    }

    /// With the DER already at hand (a certificate's own SubjectPublicKeyInfo), which spares
    /// `i2d_PUBKEY`: in OpenSSL 3 it sets up a provider encoder every call, a quarter of an IKE
    /// handshake's instructions when certificates were parsed this way (callgrind).
    /// Takes a new reference to `pkey`.
    init(subjectPublicKeyInfo der: [UInt8], pkey: OpaquePointer) throws {
        self.algorithm = try PublicKeyAlgorithm.of(pkey)
        guard EVP_PKEY_up_ref(pkey) == 1 else { throw OpenSSL.error(.library, "EVP_PKEY_up_ref") }
        self.subjectPublicKeyInfo = der
        self.key = OpenSSLObject(owning: pkey, kind: .publicKey)
    }

    public static func == (a: PublicKey, b: PublicKey) -> Bool { a.subjectPublicKeyInfo == b.subjectPublicKeyInfo }
    public func hash(into h: inout Hasher) { h.combine(subjectPublicKeyInfo) }

    /// RFC 7296 §3.7: the CERTREQ "Certification Authority" value is the SHA-1 of the CA's
    /// SubjectPublicKeyInfo; peers match their trusted CAs against it.
    public var sha1: [UInt8] { X509Support.digest(EVP_sha1(), subjectPublicKeyInfo) }

    /// The raw 32-byte Ed25519 public key (RFC 8032 §5.1.5), nil for other key types.
    public var rawEd25519: [UInt8]? {
        guard algorithm == .ed25519 else { return nil }
        return withEVP { pkey -> [UInt8]? in
            var out = [UInt8](repeating: 0, count: 32)
            var len = 32
            guard EVP_PKEY_get_raw_public_key(pkey, &out, &len) == 1, len == 32 else { return nil }
            return out
        }
    }

    public var description: String { "\(algorithm) key \(X509Support.hex(Array(sha1.prefix(8)), separator: ":"))…" }

    /// Runs `body` with the parsed key. A public key is only ever read (verification,
    /// comparison, encoding), which OpenSSL allows from several threads at once.
    func withEVP<R, E: Error>(_ body: (OpaquePointer) throws(E) -> sending R) throws(E) -> sending R {
        try key.withShared(body)
    }
}
