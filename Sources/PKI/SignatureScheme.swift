import COpenSSL
import CryptoCore

/// RFC 7427 §4 / IANA "IKEv2 Hash Algorithms": the values carried in a
/// SIGNATURE_HASH_ALGORITHMS notification (type 16431).
public enum SignatureHashAlgorithm: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sha1 = 1
    case sha256 = 2
    case sha384 = 3
    case sha512 = 4
    /// RFC 8420 §2: "Identity" — the signature algorithm hashes internally (Ed25519/Ed448).
    case identity = 5

    public var description: String {
        switch self {
        case .sha1: "SHA1"
        case .sha256: "SHA2_256"
        case .sha384: "SHA2_384"
        case .sha512: "SHA2_512"
        case .identity: "Identity"
        }
    }

    /// Output length in bytes (0 for identity).
    var length: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        case .identity: 0
        }
    }

    var md: OpaquePointer? {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        case .identity: nil
        }
    }

    /// DER AlgorithmIdentifier of the hash, parameters NULL (as RFC 4055 §2.1 recommends for PSS).
    var algorithmIdentifier: [UInt8] {
        switch self {
        case .sha1: [0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00]
        case .sha256: [0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00]
        case .sha384: [0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00]
        case .sha512: [0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00]
        case .identity: []
        }
    }

    /// The OID body (value of the OBJECT IDENTIFIER TLV).
    var oid: [UInt8] {
        switch self {
        case .sha1: [0x2B, 0x0E, 0x03, 0x02, 0x1A]
        case .sha256: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]
        case .sha384: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]
        case .sha512: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]
        case .identity: []
        }
    }
}

/// IKEv2 Authentication Methods (RFC 7296 §3.8, RFC 4754 §3, RFC 7427 §3) that use signatures.
public enum SignatureAuthMethod: UInt8, Sendable, Hashable, CaseIterable {
    /// RSA Digital Signature: PKCS#1 v1.5 with SHA-1 (RFC 7296 §3.8).
    case rsaDigitalSignature = 1
    /// ECDSA with SHA-256 on P-256 (RFC 4754), raw r||s.
    case ecdsaSHA256P256 = 9
    /// ECDSA with SHA-384 on P-384 (RFC 4754), raw r||s.
    case ecdsaSHA384P384 = 10
    /// ECDSA with SHA-512 on P-521 (RFC 4754), raw r||s.
    case ecdsaSHA512P521 = 11
    /// Digital Signature (RFC 7427): AlgorithmIdentifier-prefixed.
    case digitalSignature = 14
}

/// A signature algorithm as IKEv2 uses it: the key type, padding, hash, and wire encoding.
public enum SignatureScheme: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// ECDSA with DER ECDSA-Sig-Value output (RFC 7427 / RFC 3279 §2.2.3), any NIST curve.
    case ecdsaSHA256, ecdsaSHA384, ecdsaSHA512
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    case rsaPKCS1SHA1, rsaPKCS1SHA256, rsaPKCS1SHA384, rsaPKCS1SHA512
    /// RSASSA-PSS (RFC 8017 §8.1), MGF1 with the same hash, salt length = hash length (RFC 4055 §3.1).
    case rsaPSSSHA256, rsaPSSSHA384, rsaPSSSHA512
    /// Ed25519 (RFC 8032 §5.1, RFC 8420).
    case ed25519
    /// RFC 4754 raw r||s ECDSA, curve fixed by the auth method (9, 10, 11).
    case ecdsaRawP256SHA256, ecdsaRawP384SHA384, ecdsaRawP521SHA512

    public var description: String {
        switch self {
        case .ecdsaSHA256: "ecdsa-with-SHA256"
        case .ecdsaSHA384: "ecdsa-with-SHA384"
        case .ecdsaSHA512: "ecdsa-with-SHA512"
        case .rsaPKCS1SHA1: "sha1WithRSAEncryption"
        case .rsaPKCS1SHA256: "sha256WithRSAEncryption"
        case .rsaPKCS1SHA384: "sha384WithRSAEncryption"
        case .rsaPKCS1SHA512: "sha512WithRSAEncryption"
        case .rsaPSSSHA256: "RSASSA-PSS-SHA256"
        case .rsaPSSSHA384: "RSASSA-PSS-SHA384"
        case .rsaPSSSHA512: "RSASSA-PSS-SHA512"
        case .ed25519: "Ed25519"
        case .ecdsaRawP256SHA256: "ECDSA-P256-SHA256 (RFC 4754)"
        case .ecdsaRawP384SHA384: "ECDSA-P384-SHA384 (RFC 4754)"
        case .ecdsaRawP521SHA512: "ECDSA-P521-SHA512 (RFC 4754)"
        }
    }

    public var hash: SignatureHashAlgorithm {
        switch self {
        case .rsaPKCS1SHA1: .sha1
        case .ecdsaSHA256, .rsaPKCS1SHA256, .rsaPSSSHA256, .ecdsaRawP256SHA256: .sha256
        case .ecdsaSHA384, .rsaPKCS1SHA384, .rsaPSSSHA384, .ecdsaRawP384SHA384: .sha384
        case .ecdsaSHA512, .rsaPKCS1SHA512, .rsaPSSSHA512, .ecdsaRawP521SHA512: .sha512
        case .ed25519: .identity
        }
    }

    var isPSS: Bool { self == .rsaPSSSHA256 || self == .rsaPSSSHA384 || self == .rsaPSSSHA512 }

    /// The curve a raw RFC 4754 scheme requires.
    var rawCurve: ECCurve? {
        switch self {
        case .ecdsaRawP256SHA256: .p256
        case .ecdsaRawP384SHA384: .p384
        case .ecdsaRawP521SHA512: .p521
        default: nil
        }
    }

    /// True when `key` can produce/verify this scheme.
    public func isCompatible(with key: PublicKeyAlgorithm) -> Bool {
        switch (self, key) {
        case (.ecdsaSHA256, .ecdsa), (.ecdsaSHA384, .ecdsa), (.ecdsaSHA512, .ecdsa): true
        case (.ecdsaRawP256SHA256, .ecdsa(let c)), (.ecdsaRawP384SHA384, .ecdsa(let c)), (.ecdsaRawP521SHA512, .ecdsa(let c)):
            c == rawCurve
        case (.rsaPKCS1SHA1, .rsa), (.rsaPKCS1SHA256, .rsa), (.rsaPKCS1SHA384, .rsa), (.rsaPKCS1SHA512, .rsa): true
        case (.rsaPSSSHA256, .rsa), (.rsaPSSSHA384, .rsa), (.rsaPSSSHA512, .rsa): true
        case (.ed25519, .ed25519): true
        default: false
        }
    }

    /// The IKEv2 Auth Method that carries this scheme.
    public var authMethod: SignatureAuthMethod {
        switch self {
        case .ecdsaRawP256SHA256: .ecdsaSHA256P256
        case .ecdsaRawP384SHA384: .ecdsaSHA384P384
        case .ecdsaRawP521SHA512: .ecdsaSHA512P521
        default: .digitalSignature
        }
    }

    /// The scheme of a legacy (non-RFC 7427) auth method; nil for method 14, whose scheme is in
    /// the payload. Method 1 is RSA PKCS#1 v1.5 with SHA-1 (RFC 7296 §3.8).
    public init?(legacyAuthMethod m: SignatureAuthMethod) {
        switch m {
        case .rsaDigitalSignature: self = .rsaPKCS1SHA1
        case .ecdsaSHA256P256: self = .ecdsaRawP256SHA256
        case .ecdsaSHA384P384: self = .ecdsaRawP384SHA384
        case .ecdsaSHA512P521: self = .ecdsaRawP521SHA512
        case .digitalSignature: return nil
        }
    }

    // MARK: RFC 7427 Appendix A AlgorithmIdentifiers

    /// RFC 7427 §3 / Appendix A: the DER AlgorithmIdentifier that prefixes the signature in an
    /// AUTH payload with method 14. nil for the raw RFC 4754 schemes, which have no such prefix.
    public var algorithmIdentifier: [UInt8]? {
        switch self {
        // A.3.2 - A.3.4: ecdsa-with-SHA256/384/512 (RFC 5758 §3.2), parameters absent.
        case .ecdsaSHA256: [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
        case .ecdsaSHA384: [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]
        case .ecdsaSHA512: [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04]
        // A.1.1 - A.1.4: shaNWithRSAEncryption (RFC 4055), parameters NULL.
        case .rsaPKCS1SHA1: [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05, 0x05, 0x00]
        case .rsaPKCS1SHA256: [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00]
        case .rsaPKCS1SHA384: [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C, 0x05, 0x00]
        case .rsaPKCS1SHA512: [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0D, 0x05, 0x00]
        // A.4.3 (SHA-256; SHA-384/512 built the same way): id-RSASSA-PSS with explicit
        // RSASSA-PSS-params {hash, MGF1(hash), saltLength = hash length}, trailerField default.
        case .rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512: Self.pssAlgorithmIdentifier(hash)
        // RFC 8420 §2: id-Ed25519 (1.3.101.112), parameters absent.
        case .ed25519: [0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70]
        case .ecdsaRawP256SHA256, .ecdsaRawP384SHA384, .ecdsaRawP521SHA512: nil
        }
    }

    static let oidRSASSAPSS: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A]
    static let oidMGF1: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x08]

    static func pssAlgorithmIdentifier(_ hash: SignatureHashAlgorithm) -> [UInt8] {
        let hashAI = hash.algorithmIdentifier
        let mgf = DER.encode(tag: DER.sequence, DER.encode(tag: DER.oid, oidMGF1) + hashAI)
        let params = DER.encode(tag: 0xA0, hashAI)
            + DER.encode(tag: 0xA1, mgf)
            + DER.encode(tag: 0xA2, DER.unsignedInteger([UInt8(hash.length)][...]))
        return DER.encode(tag: DER.sequence, DER.encode(tag: DER.oid, oidRSASSAPSS) + DER.encode(tag: DER.sequence, params))
    }

    /// Recognises an AlgorithmIdentifier from a peer's AUTH payload (RFC 7427 §3). Exact blobs
    /// are matched first; RSASSA-PSS parameters are parsed field by field because encoders
    /// differ (absent vs NULL hash parameters, explicit default trailerField).
    public init(algorithmIdentifier der: [UInt8]) throws {
        if let known = Self.allCases.first(where: { $0.algorithmIdentifier == der }) {
            self = known
            return
        }
        var outer = DERReader(der)
        var seq = DERReader(try outer.read(tag: DER.sequence))
        guard outer.isEmpty else { throw CryptoError(.malformed, "AlgorithmIdentifier: trailing bytes") }
        let oid = Array(try seq.read(tag: DER.oid))
        func hashFromAI(_ ai: ArraySlice<UInt8>) throws -> SignatureHashAlgorithm {
            var r = DERReader(ai)
            var s = DERReader(try r.read(tag: DER.sequence))
            let h = Array(try s.read(tag: DER.oid))
            if !s.isEmpty { _ = try s.read(tag: DER.null) }
            guard s.isEmpty, let alg = SignatureHashAlgorithm.allCases.first(where: { $0 != .identity && $0.oid == h }) else {
                throw CryptoError(.unsupportedAlgorithm, "AlgorithmIdentifier: unknown hash")
            }
            return alg
        }
        // Ecdsa / RSA PKCS#1 with NULL-vs-absent parameter variations.
        for scheme in Self.allCases {
            guard let ai = scheme.algorithmIdentifier, !scheme.isPSS else { continue }
            var r = DERReader(ai)
            var s = DERReader(try r.read(tag: DER.sequence))
            if Array(try s.read(tag: DER.oid)) == oid {
                if !seq.isEmpty { _ = try seq.read(tag: DER.null) }
                guard seq.isEmpty else { throw CryptoError(.malformed, "AlgorithmIdentifier: unexpected parameters") }
                self = scheme
                return
            }
        }
        guard oid == Self.oidRSASSAPSS else {
            throw CryptoError(.unsupportedAlgorithm, "AlgorithmIdentifier: unsupported signature algorithm OID \(X509Support.hex(oid))")
        }
        // RFC 4055 §3.1 RSASSA-PSS-params; all fields have defaults (SHA-1, MGF1-SHA1, 20, 1).
        var hash = SignatureHashAlgorithm.sha1
        var mgfHash = SignatureHashAlgorithm.sha1
        var salt = 20
        if !seq.isEmpty {
            var params = DERReader(try seq.read(tag: DER.sequence))
            while !params.isEmpty {
                let (tag, value) = try params.read()
                switch tag {
                case 0xA0: hash = try hashFromAI(value)
                case 0xA1:
                    var r = DERReader(value)
                    var s = DERReader(try r.read(tag: DER.sequence))
                    guard Array(try s.read(tag: DER.oid)) == Self.oidMGF1 else {
                        throw CryptoError(.unsupportedAlgorithm, "RSASSA-PSS: mask generation function is not MGF1")
                    }
                    mgfHash = try hashFromAI(try s.readElement())
                case 0xA2:
                    var r = DERReader(value)
                    salt = try DER.smallInteger(try r.read(tag: DER.integer))
                case 0xA3:
                    var r = DERReader(value)
                    guard try DER.smallInteger(try r.read(tag: DER.integer)) == 1 else {
                        throw CryptoError(.unsupportedAlgorithm, "RSASSA-PSS: trailerField must be 1")
                    }
                default: throw CryptoError(.malformed, "RSASSA-PSS-params: unexpected field")
                }
            }
        }
        guard seq.isEmpty else { throw CryptoError(.malformed, "AlgorithmIdentifier: trailing bytes") }
        guard mgfHash == hash, salt == hash.length else {
            throw CryptoError(.unsupportedAlgorithm, "RSASSA-PSS: only MGF1 with the message hash and salt length = hash length are supported")
        }
        switch hash {
        case .sha256: self = .rsaPSSSHA256
        case .sha384: self = .rsaPSSSHA384
        case .sha512: self = .rsaPSSSHA512
        default: throw CryptoError(.unsupportedAlgorithm, "RSASSA-PSS with \(hash)")
        }
    }

    // MARK: RFC 7427 §4 negotiation

    /// Picks the RFC 7427 (method 14) scheme for `key` given the hashes the peer announced in
    /// SIGNATURE_HASH_ALGORITHMS. ECDSA prefers the hash matching the curve size (RFC 5656-style
    /// pairing), RSA prefers SHA-256 and PKCS#1 v1.5 unless `preferPSS` (widest interoperability);
    /// Ed25519 needs Identity (RFC 8420 §2). SHA-1 only with `allowSHA1` (RFC 8247 §2.5 deprecates
    /// it). Returns nil when nothing fits: then fall back to `legacy(for:)` or fail.
    public static func negotiate(for key: PublicKeyAlgorithm, peerHashes: Set<SignatureHashAlgorithm>,
                                 preferPSS: Bool = false, allowSHA1: Bool = false) -> SignatureScheme? {
        switch key {
        case .ed25519:
            return peerHashes.contains(.identity) ? .ed25519 : nil
        case .ecdsa(let curve):
            let preferred: [SignatureHashAlgorithm]
            switch curve {
            case .p256: preferred = [.sha256, .sha384, .sha512]
            case .p384: preferred = [.sha384, .sha512, .sha256]
            case .p521: preferred = [.sha512, .sha384, .sha256]
            }
            guard let h = preferred.first(where: peerHashes.contains) else { return nil }
            return h == .sha256 ? .ecdsaSHA256 : h == .sha384 ? .ecdsaSHA384 : .ecdsaSHA512
        case .rsa:
            var order: [SignatureHashAlgorithm] = [.sha256, .sha384, .sha512]
            if allowSHA1 { order.append(.sha1) }
            guard let h = order.first(where: peerHashes.contains) else { return nil }
            switch (h, preferPSS) {
            case (.sha256, false): return .rsaPKCS1SHA256
            case (.sha384, false): return .rsaPKCS1SHA384
            case (.sha512, false): return .rsaPKCS1SHA512
            case (.sha256, true): return .rsaPSSSHA256
            case (.sha384, true): return .rsaPSSSHA384
            case (.sha512, true): return .rsaPSSSHA512
            default: return .rsaPKCS1SHA1
            }
        }
    }

    /// The pre-RFC 7427 scheme for a key when the peer sent no SIGNATURE_HASH_ALGORITHMS:
    /// method 1 for RSA (SHA-1, only with `allowSHA1`), 9/10/11 for ECDSA; none for Ed25519.
    public static func legacy(for key: PublicKeyAlgorithm, allowSHA1: Bool = false) -> SignatureScheme? {
        switch key {
        case .ecdsa(.p256): .ecdsaRawP256SHA256
        case .ecdsa(.p384): .ecdsaRawP384SHA384
        case .ecdsa(.p521): .ecdsaRawP521SHA512
        case .rsa: allowSHA1 ? .rsaPKCS1SHA1 : nil
        case .ed25519: nil
        }
    }

    /// The SIGNATURE_HASH_ALGORITHMS Viaduct announces (RFC 7427 §4, RFC 8247 §3.2): no SHA-1.
    public static let announcedHashes: [SignatureHashAlgorithm] = [.sha256, .sha384, .sha512, .identity]
}

/// RFC 7427 §3: the Authentication Data of an AUTH payload with method 14 is
/// `ASN.1 length (1 octet) | AlgorithmIdentifier | signature`.
public enum DigitalSignatureAuthData {
    public static func encode(scheme: SignatureScheme, signature: [UInt8]) throws -> [UInt8] {
        guard let ai = scheme.algorithmIdentifier, ai.count <= 255 else {
            throw CryptoError(.unsupportedAlgorithm, "\(scheme) is not carried in auth method 14")
        }
        return [UInt8(ai.count)] + ai + signature
    }

    public static func decode(_ data: [UInt8]) throws -> (scheme: SignatureScheme, signature: [UInt8]) {
        guard let n = data.first.map(Int.init), n > 0, data.count > 1 + n else {
            throw CryptoError(.truncated, "RFC 7427 authentication data shorter than its AlgorithmIdentifier")
        }
        let scheme = try SignatureScheme(algorithmIdentifier: Array(data[1...n]))
        return (scheme, Array(data[(1 + n)...]))
    }
}
