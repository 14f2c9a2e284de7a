// RFC 7296 §3.3.2 and the IANA "IKEv2 Transform Attribute Types / Transform IDs" registries.
// The algorithms Viaduct knows, with their IANA numbers and sizes. Shared by the topology
// (proposal syntax), the IKEv2 engine (SA payloads) and the data planes (key sizes).
// RFC 8247 (IKEv2) and RFC 8221 (ESP) say which are MUST / SHOULD NOT; `isWeak` marks the
// ones Viaduct refuses unless a topology explicitly allows weak algorithms.

/// RFC 7296 §3.3.2 transform types.
public enum TransformType: UInt8, Sendable, Hashable, CaseIterable {
    case encryption = 1
    case prf = 2
    case integrity = 3
    case keyExchange = 4
    case extendedSequenceNumbers = 5
}

/// Encryption algorithms (transform type 1). Key sizes in bits where the ID alone does not fix them.
public enum EncryptionAlgorithm: Hashable, Sendable {
    /// AES-GCM with a 16-byte ICV, RFC 4106 (ESP) / RFC 5282 (IKEv2). ENCR_AES_GCM_16 = 20.
    case aesGCM16(keyBits: Int)
    /// AES-CBC, RFC 3602. ENCR_AES_CBC = 12. Needs an integrity algorithm.
    case aesCBC(keyBits: Int)
    /// ChaCha20-Poly1305, RFC 7634. ENCR_CHACHA20_POLY1305 = 28.
    case chacha20Poly1305
    /// 3DES-CBC. ENCR_3DES = 3. Deprecated (RFC 8247 §2.1): accepted only when weak algorithms are allowed.
    case tripleDES

    /// IANA transform ID.
    public var transformID: UInt16 {
        switch self {
        case .aesGCM16: 20
        case .aesCBC: 12
        case .chacha20Poly1305: 28
        case .tripleDES: 3
        }
    }

    /// The value of the Key Length attribute (RFC 7296 §3.3.5), or nil when the ID fixes the size.
    public var keyLengthAttribute: UInt16? {
        switch self {
        case .aesGCM16(let bits), .aesCBC(let bits): UInt16(bits)
        case .chacha20Poly1305, .tripleDES: nil
        }
    }

    /// Builds the algorithm from an IANA transform ID and its Key Length attribute; nil when unknown.
    public init?(transformID: UInt16, keyLength: UInt16?) {
        switch (transformID, keyLength) {
        case (20, let bits?) where [128, 192, 256].contains(bits): self = .aesGCM16(keyBits: Int(bits))
        case (12, let bits?) where [128, 192, 256].contains(bits): self = .aesCBC(keyBits: Int(bits))
        case (28, nil): self = .chacha20Poly1305
        case (3, nil): self = .tripleDES
        default: return nil
        }
    }

    /// True for AEAD ciphers, which carry their own integrity (no INTEG transform).
    public var isAEAD: Bool {
        switch self {
        case .aesGCM16, .chacha20Poly1305: true
        case .aesCBC, .tripleDES: false
        }
    }

    /// Bytes of key material taken from KEYMAT / SK_e: the cipher key plus, for AEADs, the 4-byte salt
    /// (RFC 4106 §8.1, RFC 7634 §2).
    public var keyMaterialLength: Int {
        switch self {
        case .aesGCM16(let bits): bits / 8 + 4
        case .aesCBC(let bits): bits / 8
        case .chacha20Poly1305: 32 + 4
        case .tripleDES: 24
        }
    }

    /// Explicit IV carried in each packet.
    public var ivLength: Int {
        switch self {
        case .aesGCM16, .chacha20Poly1305, .tripleDES: 8
        case .aesCBC: 16
        }
    }

    /// AEAD tag length (0 for non-AEAD ciphers).
    public var icvLength: Int { isAEAD ? 16 : 0 }

    /// Cipher block size for padding (RFC 4303 §2.4). AEADs in counter mode pad to 4 bytes.
    public var blockSize: Int {
        switch self {
        case .aesGCM16, .chacha20Poly1305: 4
        case .aesCBC: 16
        case .tripleDES: 8
        }
    }

    public var isWeak: Bool { self == .tripleDES }
}

/// Pseudo-random functions (transform type 2).
public enum PRFAlgorithm: UInt16, Hashable, Sendable, CaseIterable {
    case hmacMD5 = 1
    case hmacSHA1 = 2
    case hmacSHA256 = 5
    case hmacSHA384 = 6
    case hmacSHA512 = 7

    public var transformID: UInt16 { rawValue }

    /// Output length in bytes; also the preferred key length (RFC 7296 §2.13).
    public var outputLength: Int {
        switch self {
        case .hmacMD5: 16
        case .hmacSHA1: 20
        case .hmacSHA256: 32
        case .hmacSHA384: 48
        case .hmacSHA512: 64
        }
    }

    public var isWeak: Bool { self == .hmacMD5 || self == .hmacSHA1 }
}

/// Integrity algorithms (transform type 3).
public enum IntegrityAlgorithm: UInt16, Hashable, Sendable, CaseIterable {
    case hmacMD5_96 = 1
    case hmacSHA1_96 = 2
    case hmacSHA256_128 = 12
    case hmacSHA384_192 = 13
    case hmacSHA512_256 = 14

    public var transformID: UInt16 { rawValue }

    /// Key length in bytes (RFC 4868 §2.1.1: the hash output size).
    public var keyLength: Int {
        switch self {
        case .hmacMD5_96: 16
        case .hmacSHA1_96: 20
        case .hmacSHA256_128: 32
        case .hmacSHA384_192: 48
        case .hmacSHA512_256: 64
        }
    }

    /// Length of the truncated ICV in bytes.
    public var icvLength: Int {
        switch self {
        case .hmacMD5_96, .hmacSHA1_96: 12
        case .hmacSHA256_128: 16
        case .hmacSHA384_192: 24
        case .hmacSHA512_256: 32
        }
    }

    public var isWeak: Bool { self == .hmacMD5_96 || self == .hmacSHA1_96 }
}

/// Key exchange (Diffie-Hellman) groups (transform type 4).
public enum KeyExchangeGroup: UInt16, Hashable, Sendable, CaseIterable {
    case modp1024 = 2
    case modp1536 = 5
    case modp2048 = 14
    case modp3072 = 15
    case modp4096 = 16
    case ecp256 = 19
    case ecp384 = 20
    case ecp521 = 21
    case curve25519 = 31
    case curve448 = 32
    /// ML-KEM (FIPS 203) as IKEv2 key exchange methods 36 and 37 (IANA, draft-ietf-ipsecme-ikev2-mlkem):
    /// key encapsulation, not Diffie-Hellman. The initiator sends its encapsulation key, the
    /// responder the ciphertext; the shared secret is ML-KEM's 32-byte K.
    case mlkem768 = 36
    case mlkem1024 = 37

    public var transformID: UInt16 { rawValue }

    /// A key encapsulation mechanism: the responder's KE data is a ciphertext made for the
    /// initiator's key, not a public value of its own (RFC 9370 §2.2.2).
    public var isKEM: Bool { self == .mlkem768 || self == .mlkem1024 }

    /// Length of the responder's KE data: the ML-KEM ciphertext, or the same public value length
    /// as the initiator's for Diffie-Hellman groups.
    public var responderValueLength: Int {
        switch self {
        case .mlkem768: 1088
        case .mlkem1024: 1568
        default: publicValueLength
        }
    }

    /// Length of the public value in a KE payload (RFC 7296 §3.4, RFC 5903 §7, RFC 8031 §3.1).
    public var publicValueLength: Int {
        switch self {
        case .modp1024: 128
        case .modp1536: 192
        case .modp2048: 256
        case .modp3072: 384
        case .modp4096: 512
        case .ecp256: 64
        case .ecp384: 96
        case .ecp521: 132
        case .curve25519: 32
        case .curve448: 56
        case .mlkem768: 1184
        case .mlkem1024: 1568
        }
    }

    /// MODP groups under 2048 bits are deprecated (RFC 8247 §2.4).
    public var isWeak: Bool { self == .modp1024 || self == .modp1536 }
}
