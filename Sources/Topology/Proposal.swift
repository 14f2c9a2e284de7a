import CryptoCore

/// One IKE or ESP proposal in strongSwan's syntax, e.g. `aes256gcm16-prfsha384-ecp384` or
/// `aes256-sha256-modp3072`. Several algorithms of a kind may be listed in one proposal
/// (`aes256gcm16-aes128gcm16-prfsha256-x25519-ecp256`); order is preference.
public struct Proposal: Hashable, Sendable, CustomStringConvertible, Encodable {
    public enum Kind: String, Hashable, Sendable, Encodable { case ike, esp }

    public var kind: Kind
    public var encryption: [EncryptionAlgorithm]
    public var integrity: [IntegrityAlgorithm]
    public var prf: [PRFAlgorithm]
    /// For IKE the key exchange; for ESP the PFS groups used on rekey (empty: no PFS).
    public var keyExchange: [KeyExchangeGroup]
    /// ESP only: extended sequence numbers offered (RFC 4303 §2.2.1), in preference order.
    public var esn: [Bool]
    /// IKE only: RFC 9370 additional key exchanges (`ke1_mlkem768`, `ke2_none`), the methods per
    /// index 1…7 in preference order, nil for NONE (the exchange may be skipped).
    public var additionalKeyExchanges: [Int: [KeyExchangeGroup?]] = [:]

    /// The algorithms RFC 8247/8221 deprecate that this proposal contains.
    public var weakAlgorithms: [String] {
        let groups: [KeyExchangeGroup] = keyExchange + additionalKeyExchanges.values.flatMap { $0.compactMap { $0 } }
        var words: [String] = encryption.filter(\.isWeak).map(ProposalSyntax.keyword(for:))
        words += integrity.filter(\.isWeak).map(ProposalSyntax.keyword(for:))
        words += prf.filter(\.isWeak).map(ProposalSyntax.keyword(for:))
        words += groups.filter(\.isWeak).map(ProposalSyntax.keyword(for:))
        return words
    }

    /// Canonical strongSwan spelling; parses back to an equal proposal.
    public var description: String {
        var words = encryption.map(ProposalSyntax.keyword(for:))
        words += integrity.map(ProposalSyntax.keyword(for:))
        words += prf.map(ProposalSyntax.keyword(for:))
        words += keyExchange.map(ProposalSyntax.keyword(for:))
        for (index, groups) in additionalKeyExchanges.sorted(by: { $0.key < $1.key }) {
            words += groups.map { "ke\(index)_" + ($0.map(ProposalSyntax.keyword(for:)) ?? "none") }
        }
        if kind == .esp, esn != [false] { words += esn.map { $0 ? "esn" : "noesn" } }
        return words.joined(separator: "-")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public init(kind: Kind, encryption: [EncryptionAlgorithm], integrity: [IntegrityAlgorithm] = [],
                prf: [PRFAlgorithm] = [], keyExchange: [KeyExchangeGroup] = [], esn: [Bool] = [false]) {
        self.kind = kind
        self.encryption = encryption
        self.integrity = integrity
        self.prf = prf
        self.keyExchange = keyExchange
        self.esn = esn
    }
}

/// The keyword table and the parser for strongSwan proposal strings.
public enum ProposalSyntax {
    static let encryptionWords: [(String, EncryptionAlgorithm)] = [
        ("aes128gcm16", .aesGCM16(keyBits: 128)), ("aes192gcm16", .aesGCM16(keyBits: 192)),
        ("aes256gcm16", .aesGCM16(keyBits: 256)),
        ("aes128gcm", .aesGCM16(keyBits: 128)), ("aes192gcm", .aesGCM16(keyBits: 192)),
        ("aes256gcm", .aesGCM16(keyBits: 256)),
        ("aes128", .aesCBC(keyBits: 128)), ("aes192", .aesCBC(keyBits: 192)), ("aes256", .aesCBC(keyBits: 256)),
        ("aes", .aesCBC(keyBits: 128)),
        ("chacha20poly1305", .chacha20Poly1305), ("3des", .tripleDES),
    ]
    static let integrityWords: [(String, IntegrityAlgorithm)] = [
        ("sha256", .hmacSHA256_128), ("sha2_256", .hmacSHA256_128),
        ("sha384", .hmacSHA384_192), ("sha2_384", .hmacSHA384_192),
        ("sha512", .hmacSHA512_256), ("sha2_512", .hmacSHA512_256),
        ("sha1", .hmacSHA1_96), ("sha", .hmacSHA1_96), ("md5", .hmacMD5_96),
    ]
    static let prfWords: [(String, PRFAlgorithm)] = [
        ("prfsha256", .hmacSHA256), ("prfsha384", .hmacSHA384), ("prfsha512", .hmacSHA512),
        ("prfsha1", .hmacSHA1), ("prfmd5", .hmacMD5),
    ]
    static let groupWords: [(String, KeyExchangeGroup)] = [
        ("modp1024", .modp1024), ("modp1536", .modp1536), ("modp2048", .modp2048),
        ("modp3072", .modp3072), ("modp4096", .modp4096),
        ("ecp256", .ecp256), ("ecp384", .ecp384), ("ecp521", .ecp521),
        ("x25519", .curve25519), ("curve25519", .curve25519), ("x448", .curve448), ("curve448", .curve448),
        ("mlkem768", .mlkem768), ("mlkem1024", .mlkem1024),
    ]
    /// strongSwan keywords Viaduct recognises but does not implement, so the error can say so
    /// instead of "unknown".
    static let unsupportedWords: Set<String> = [
        "aes128gcm8", "aes192gcm8", "aes256gcm8", "aes128gcm12", "aes192gcm12", "aes256gcm12",
        "aes128ctr", "aes192ctr", "aes256ctr", "aes128ccm8", "aes128ccm12", "aes128ccm16",
        "aes256ccm8", "aes256ccm12", "aes256ccm16", "aes128gmac", "aes256gmac",
        "camellia128", "camellia192", "camellia256", "des", "blowfish", "cast128", "null",
        "aesxcbc", "aescmac", "sha256_96", "md5_128", "prfaesxcbc", "prfaescmac",
        "modp768", "modp6144", "modp8192", "modp1024s160", "modp2048s224", "modp2048s256",
        "ecp192", "ecp224", "ecp224bp", "ecp256bp", "ecp384bp", "ecp512bp",
    ]

    static func keyword(for e: EncryptionAlgorithm) -> String {
        switch e {
        case .aesGCM16(let bits): "aes\(bits)gcm16"
        case .aesCBC(let bits): "aes\(bits)"
        case .chacha20Poly1305: "chacha20poly1305"
        case .tripleDES: "3des"
        }
    }
    /// `keN_method`: N (nil when not a number) and the method word; nil for any other word.
    static func additionalKeyExchange(_ word: String) -> (Int?, String)? {
        guard word.hasPrefix("ke"), let underscore = word.firstIndex(of: "_") else { return nil }
        let number = word[word.index(word.startIndex, offsetBy: 2)..<underscore]
        guard !number.isEmpty, number.allSatisfy(\.isNumber) else { return nil }
        return (Int(number), String(word[word.index(after: underscore)...]))
    }

    static func keyword(for i: IntegrityAlgorithm) -> String { integrityWords.first { $0.1 == i }!.0 }
    static func keyword(for p: PRFAlgorithm) -> String { prfWords.first { $0.1 == p }!.0 }
    static func keyword(for g: KeyExchangeGroup) -> String { groupWords.first { $0.1 == g }!.0 }

    static let prfForIntegrity: [IntegrityAlgorithm: PRFAlgorithm] = [
        .hmacSHA256_128: .hmacSHA256, .hmacSHA384_192: .hmacSHA384, .hmacSHA512_256: .hmacSHA512,
        .hmacSHA1_96: .hmacSHA1, .hmacMD5_96: .hmacMD5,
    ]

    /// Parses one proposal; the error text says which word is wrong and what would be accepted.
    public static func parse(_ text: String, kind: Proposal.Kind) -> Result<Proposal, ProposalError> {
        let words = text.lowercased().split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard !text.isEmpty, !words.contains(where: \.isEmpty) else {
            return .failure(.init("'\(text)' is not a proposal; expected algorithms joined by '-', e.g. \(kind == .ike ? "aes256gcm16-prfsha384-ecp384" : "aes256gcm16-x25519")"))
        }
        var p = Proposal(kind: kind, encryption: [], esn: [])
        for word in words {
            if let e = encryptionWords.first(where: { $0.0 == word })?.1 {
                if !p.encryption.contains(e) { p.encryption.append(e) }
            } else if let i = integrityWords.first(where: { $0.0 == word })?.1 {
                if !p.integrity.contains(i) { p.integrity.append(i) }
            } else if let f = prfWords.first(where: { $0.0 == word })?.1 {
                guard kind == .ike else {
                    return .failure(.init("'\(word)' in '\(text)': ESP proposals have no PRF; remove it"))
                }
                if !p.prf.contains(f) { p.prf.append(f) }
            } else if let g = groupWords.first(where: { $0.0 == word })?.1 {
                if !p.keyExchange.contains(g) { p.keyExchange.append(g) }
            } else if let (index, method) = additionalKeyExchange(word) {
                // RFC 9370: `keN_method` or `keN_none`, N from 1 to 7.
                guard kind == .ike else {
                    return .failure(.init("'\(word)' in '\(text)': additional key exchanges (RFC 9370) are supported in IKE proposals only; an ESP proposal's group is its rekey PFS"))
                }
                guard let index, IKEAdditionalIndex.range.contains(index) else {
                    return .failure(.init("'\(word)' in '\(text)': additional key exchanges are ke1_ to ke7_"))
                }
                let group: KeyExchangeGroup?
                if method == "none" {
                    group = nil
                } else if let g = groupWords.first(where: { $0.0 == method })?.1 {
                    group = g
                } else {
                    let hint = Suggest.closest(to: method, in: groupWords.map(\.0) + ["none"]).map { "; did you mean 'ke\(index)_\($0)'?" } ?? ""
                    return .failure(.init("unknown key exchange '\(method)' in '\(word)' of proposal '\(text)'\(hint)"))
                }
                if !(p.additionalKeyExchanges[index]?.contains(group) ?? false) { p.additionalKeyExchanges[index, default: []].append(group) }
            } else if word == "esn" || word == "noesn" {
                guard kind == .esp else {
                    return .failure(.init("'\(word)' in '\(text)': extended sequence numbers apply to ESP proposals only"))
                }
                if !p.esn.contains(word == "esn") { p.esn.append(word == "esn") }
            } else if unsupportedWords.contains(word) {
                return .failure(.init("'\(word)' in '\(text)' is not supported by Viaduct; use AES-GCM (aes128gcm16, aes256gcm16), chacha20poly1305 or AES-CBC with SHA-2, and groups ecp256/384/521, x25519, x448, modp2048+ or mlkem768/1024"))
            } else {
                let all = (encryptionWords.map(\.0) + integrityWords.map(\.0) + prfWords.map(\.0) + groupWords.map(\.0) + ["esn", "noesn"])
                let hint = Suggest.closest(to: word, in: all).map { "; did you mean '\($0)'?" } ?? ""
                return .failure(.init("unknown algorithm '\(word)' in proposal '\(text)'\(hint)"))
            }
        }
        if p.esn.isEmpty { p.esn = [false] }
        guard !p.encryption.isEmpty else {
            return .failure(.init("proposal '\(text)' names no encryption algorithm; add one, e.g. aes256gcm16"))
        }
        let aead = p.encryption.filter(\.isAEAD)
        if !aead.isEmpty && aead.count != p.encryption.count {
            return .failure(.init("proposal '\(text)' mixes AEAD and non-AEAD ciphers; put them in separate proposals"))
        }
        if aead.isEmpty {
            if p.integrity.isEmpty {
                return .failure(.init("proposal '\(text)' uses a non-AEAD cipher without an integrity algorithm; add one, e.g. sha256"))
            }
            if kind == .ike && p.prf.isEmpty {
                // strongSwan derives the PRF from the integrity algorithm; so do we.
                p.prf = p.integrity.compactMap { prfForIntegrity[$0] }
            }
        } else if !p.integrity.isEmpty {
            return .failure(.init("proposal '\(text)' combines an AEAD cipher with an integrity algorithm; AEAD ciphers carry their own integrity, remove '\(p.integrity.map(keyword(for:)).joined(separator: "-"))'"))
        }
        if kind == .ike {
            if p.prf.isEmpty {
                return .failure(.init("IKE proposal '\(text)' needs a PRF with an AEAD cipher; add one, e.g. prfsha384"))
            }
            if p.keyExchange.isEmpty {
                return .failure(.init("IKE proposal '\(text)' names no key exchange group; add one, e.g. ecp384 or x25519"))
            }
        }
        return .success(p)
    }
}

/// RFC 9370 §2.2.2: ADDITIONAL_KEY_EXCHANGE_1 … _7.
public enum IKEAdditionalIndex {
    public static let range = 1...7
}

public struct ProposalError: Error, Hashable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}
