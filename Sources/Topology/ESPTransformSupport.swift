import CryptoCore

// RFC 4303 §3.3.2 transforms and where they are carried. The one table of which ESP transforms
// each data plane can install, shared by `validate`/`plan` (a tunnel whose proposals no plane of
// its node can carry is refused or warned about), by the daemon (it offers and accepts only what
// its chosen data plane carries) and by the userspace data plane's own install check.

extension DataplaneKind {
    /// Why this data plane cannot carry ESP with `encryption` (and `integrity`, for a non-AEAD
    /// cipher), or nil when it can. `auto` answers for the kernel, which it prefers.
    ///
    /// - kernel: every transform Viaduct negotiates (the XFRM algorithm table names them all).
    /// - userspace: AES-GCM-16 and ChaCha20-Poly1305 (RFC 4106, RFC 7634), and AES-CBC (RFC 3602)
    ///   with HMAC-SHA-256-128, -384-192 or -512-256 (RFC 4868); not 3DES, HMAC-MD5 or HMAC-SHA1
    ///   (deprecated by RFC 8221).
    public func refusal(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?) -> String? {
        switch (encryption.isAEAD, integrity) {
        case (true, _?): return "\(ProposalSyntax.keyword(for: encryption)) is an AEAD and takes no integrity algorithm"
        case (false, nil): return "\(ProposalSyntax.keyword(for: encryption)) needs an integrity algorithm"
        default: break
        }
        switch self {
        case .kernel, .auto:
            return nil
        case .userspace:
            switch encryption {
            case .aesGCM16, .chacha20Poly1305: return nil
            case .tripleDES: return "the userspace data plane does not carry 3des (deprecated by RFC 8221)"
            case .aesCBC:
                switch integrity {
                case .hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256, nil: return nil
                case let weak?:
                    return "the userspace data plane carries AES-CBC only with sha256, sha384 or sha512 (RFC 4868), not \(ProposalSyntax.keyword(for: weak))"
                }
            }
        }
    }

    /// The part of an ESP proposal this data plane can carry, or nil when nothing is left, and
    /// what was dropped and why. An encryption algorithm stays if it can be carried with one of
    /// the proposal's integrity algorithms (or is an AEAD); an integrity algorithm stays if a
    /// remaining non-AEAD cipher can use it.
    public func carried(_ proposal: Proposal) -> (kept: Proposal?, dropped: [String]) {
        var dropped: [String] = []
        var kept = proposal
        kept.encryption = proposal.encryption.filter { e in
            let why: String?
            if e.isAEAD {
                why = refusal(encryption: e, integrity: nil)
            } else {
                let reasons = proposal.integrity.map { refusal(encryption: e, integrity: $0) }
                why = reasons.contains { $0 == nil } ? nil : (reasons.compactMap { $0 }.first ?? "\(ProposalSyntax.keyword(for: e)) needs an integrity algorithm")
            }
            if let why { dropped.append(why) }
            return why == nil
        }
        let ciphers = kept.encryption.filter { !$0.isAEAD }
        kept.integrity = proposal.integrity.filter { i in
            let why = ciphers.isEmpty ? nil : ciphers.lazy.compactMap { self.refusal(encryption: $0, integrity: i) }.first
            let usable = !ciphers.isEmpty && ciphers.contains { refusal(encryption: $0, integrity: i) == nil }
            if !usable, let why, !dropped.contains(why) { dropped.append(why) }
            return usable
        }
        return (kept.encryption.isEmpty ? nil : kept, dropped)
    }
}
