// RFC 7296 §2.7 (proposal selection) and §3.3.6 (unknown transforms are skipped, not fatal).
import CryptoCore
import NetTypes

/// Picks algorithms from a peer's SA payload. The responder walks ITS configured sets in order
/// and takes the first one the peer offers (strongSwan's default), so the operator's preference
/// wins; within a set, the first of our algorithms per transform type the peer lists.
enum IKEProposalSelection {
    /// The peer's offered transforms of one proposal, as CryptoCore values.
    private struct Offer {
        var encryption: [EncryptionAlgorithm] = []
        var integrity: [IntegrityAlgorithm] = []
        var prf: [PRFAlgorithm] = []
        var groups: [KeyExchangeGroup] = []
        var esn: [Bool] = []
        /// RFC 9370: the methods offered per ADDITIONAL_KEY_EXCHANGE_N (nil: NONE); unknown
        /// methods leave the type present but without them.
        var additional: [Int: [KeyExchangeGroup?]] = [:]
        var hasIntegrityNone = false
        var hasGroupNone = false

        init(_ proposal: IKEProposal) {
            for t in proposal.transforms {
                if (6...12).contains(t.type) {
                    let index = Int(t.type) - 5
                    var methods = additional[index, default: []]
                    if t.id == 0 { methods.append(nil) } else if let g = KeyExchangeGroup(rawValue: t.id) { methods.append(g) }
                    additional[index] = methods
                    continue
                }
                switch t.algorithm {
                case .encryption(let e)?: encryption.append(e)
                case .integrity(let i)?: integrity.append(i)
                case .prf(let p)?: prf.append(p)
                case .keyExchange(let g)?: groups.append(g)
                case .extendedSequenceNumbers(let on)?: esn.append(on)
                case nil:
                    if t.type == TransformType.integrity.rawValue && t.id == 0 { hasIntegrityNone = true }
                    if t.type == TransformType.keyExchange.rawValue && t.id == 0 { hasGroupNone = true }
                }
            }
        }
    }

    private static func pickIntegrity(_ encryption: EncryptionAlgorithm, ours: [IntegrityAlgorithm],
                                      offer: Offer) -> IntegrityAlgorithm?? {
        if encryption.isAEAD { return .some(nil) }  // RFC 5282 §8: no integrity transform with an AEAD
        guard let integ = ours.first(where: offer.integrity.contains) else { return nil }
        return .some(integ)
    }

    /// RFC 9370 §2.2.2, responder: per additional key exchange type, the first of our methods
    /// the peer offers (NONE only when both list it). A type we do not use is acceptable only if
    /// the peer allows NONE for it, and is then answered NONE; nil when the sets do not match.
    private static func selectAdditional(ours: [IKEAdditionalKeyExchange],
                                         offer: [Int: [KeyExchangeGroup?]]) -> [IKEAdditionalKeyExchange]? {
        var chosen: [IKEAdditionalKeyExchange] = []
        for index in IKEAdditionalKeyExchange.indices {
            let mine = ours.first { $0.index == index }?.groups ?? []
            guard let theirs = offer[index] else {
                if mine.isEmpty || mine.contains(nil) { continue }
                return nil
            }
            let pick: KeyExchangeGroup?? = mine.isEmpty ? (theirs.contains(nil) ? .some(nil) : nil) : mine.first(where: theirs.contains)
            guard let pick else { return nil }
            chosen.append(IKEAdditionalKeyExchange(index: index, groups: [pick]))
        }
        return chosen
    }

    /// RFC 9370, initiator and dynamic peers: whether `chosen` (one method or NONE per type) is
    /// what `ours` offers; a type we require (no NONE) must have been chosen.
    static func additionalAllowed(_ chosen: [IKEAdditionalKeyExchange], by ours: [IKEAdditionalKeyExchange]) -> Bool {
        for index in IKEAdditionalKeyExchange.indices {
            let mine = ours.first { $0.index == index }?.groups ?? []
            guard let c = chosen.first(where: { $0.index == index }) else {
                if !mine.isEmpty && !mine.contains(nil) { return false }
                continue
            }
            guard c.groups.count == 1, let pick = c.groups.first else { return false }
            if mine.isEmpty ? pick != nil : !mine.contains(pick) { return false }
        }
        return true
    }

    /// Responder: the chosen algorithms and the number of the peer proposal they came from.
    static func selectIKE(ours: [IKEAlgorithmSet], offered: [IKEProposal]) -> (IKESelectedAlgorithms, UInt8)? {
        for set in ours {
            for proposal in offered where proposal.protocolID == .ike {
                let offer = Offer(proposal)
                guard let additional = selectAdditional(ours: set.additional, offer: offer.additional) else { continue }
                for enc in set.encryption where offer.encryption.contains(enc) {
                    guard let integ = pickIntegrity(enc, ours: set.integrity, offer: offer),
                          let prf = set.prf.first(where: offer.prf.contains),
                          let group = set.groups.first(where: offer.groups.contains) else { continue }
                    return (IKESelectedAlgorithms(encryption: enc, integrity: integ, prf: prf, group: group, additional: additional),
                            proposal.number)
                }
            }
        }
        return nil
    }

    /// Responder: ESP algorithms, the peer proposal number, and the peer's SPI (our outbound SPI).
    static func selectESP(ours: [ESPAlgorithmSet], offered: [IKEProposal]) -> (ESPSelectedAlgorithms, UInt8, ESPSPI)? {
        for set in ours {
            for proposal in offered where proposal.protocolID == .esp {
                guard let spi = proposal.espSPI else { continue }
                let offer = Offer(proposal)
                let peerESN = offer.esn.isEmpty ? [false] : offer.esn
                for enc in set.encryption where offer.encryption.contains(enc) {
                    guard let integ = pickIntegrity(enc, ours: set.integrity, offer: offer),
                          let esn = set.esn.first(where: peerESN.contains) else { continue }
                    return (ESPSelectedAlgorithms(encryption: enc, integrity: integ, esn: esn), proposal.number, spi)
                }
            }
        }
        return nil
    }

    /// RFC 7296 §1.3.3 / §2.8: a rekey responder also agrees on the PFS group. A set with groups
    /// needs one of them offered (no silent downgrade to no-PFS); a set without accepts a proposal
    /// without groups or with NONE. Returns the algorithms, proposal number and peer SPI.
    static func selectESPRekey(ours: [ESPAlgorithmSet], offered: [IKEProposal]) -> (ESPSelectedAlgorithms, UInt8, ESPSPI)? {
        for set in ours {
            for proposal in offered where proposal.protocolID == .esp {
                guard let spi = proposal.espSPI else { continue }
                let offer = Offer(proposal)
                let group: KeyExchangeGroup?
                if set.groups.isEmpty {
                    guard offer.groups.isEmpty || offer.hasGroupNone else { continue }
                    group = nil
                } else {
                    guard let g = set.groups.first(where: offer.groups.contains) else { continue }
                    group = g
                }
                let peerESN = offer.esn.isEmpty ? [false] : offer.esn
                for enc in set.encryption where offer.encryption.contains(enc) {
                    guard let integ = pickIntegrity(enc, ours: set.integrity, offer: offer),
                          let esn = set.esn.first(where: peerESN.contains) else { continue }
                    return (ESPSelectedAlgorithms(encryption: enc, integrity: integ, esn: esn, group: group), proposal.number, spi)
                }
            }
        }
        return nil
    }

    /// Rekey initiator: the responder's chosen ESP proposal including its PFS group, which must
    /// be one we offered in that set (none only if the set has none).
    static func acceptESPRekey(ours: [ESPAlgorithmSet], chosen: [IKEProposal]) -> (ESPSelectedAlgorithms, ESPSPI)? {
        guard chosen.count == 1, let p = chosen.first, p.protocolID == .esp, let spi = p.espSPI else { return nil }
        let o = Offer(p)
        guard o.encryption.count == 1, o.integrity.count <= 1, o.esn.count <= 1, o.groups.count <= 1 else { return nil }
        let s = ESPSelectedAlgorithms(encryption: o.encryption[0], integrity: o.integrity.first, esn: o.esn.first ?? false,
                                      group: o.groups.first)
        guard s.encryption.isAEAD == (s.integrity == nil) else { return nil }
        let ok = ours.contains { set in
            set.encryption.contains(s.encryption) && set.esn.contains(s.esn)
                && (s.integrity.map(set.integrity.contains) ?? true)
                && (set.groups.isEmpty ? s.group == nil : s.group.map(set.groups.contains) ?? false)
        }
        return ok ? (s, spi) : nil
    }

    /// Initiator: the responder's single chosen proposal (RFC 7296 §3.3: exactly one transform
    /// per type), accepted only if one of our sets contains that combination.
    static func acceptIKE(ours: [IKEAlgorithmSet], chosen: [IKEProposal]) -> IKESelectedAlgorithms? {
        guard chosen.count == 1, let p = chosen.first, p.protocolID == .ike else { return nil }
        let o = Offer(p)
        guard o.encryption.count == 1, o.prf.count == 1, o.groups.count == 1, o.integrity.count <= 1,
              o.additional.values.allSatisfy({ $0.count == 1 }),
              p.transforms.allSatisfy({ $0.algorithm != nil || ($0.type == 3 && $0.id == 0) || (6...12).contains($0.type) })
        else { return nil }
        let additional = o.additional.sorted { $0.key < $1.key }.map { IKEAdditionalKeyExchange(index: $0.key, groups: $0.value) }
        let s = IKESelectedAlgorithms(encryption: o.encryption[0], integrity: o.integrity.first, prf: o.prf[0], group: o.groups[0],
                                      additional: additional)
        guard s.encryption.isAEAD == (s.integrity == nil) else { return nil }
        let ok = ours.contains { set in
            set.encryption.contains(s.encryption) && set.prf.contains(s.prf) && set.groups.contains(s.group)
                && (s.integrity.map(set.integrity.contains) ?? true) && additionalAllowed(s.additional, by: set.additional)
        }
        return ok ? s : nil
    }

    /// Initiator: the responder's chosen ESP proposal and its SPI (our outbound SPI).
    static func acceptESP(ours: [ESPAlgorithmSet], chosen: [IKEProposal]) -> (ESPSelectedAlgorithms, ESPSPI)? {
        guard chosen.count == 1, let p = chosen.first, p.protocolID == .esp, let spi = p.espSPI else { return nil }
        let o = Offer(p)
        guard o.encryption.count == 1, o.integrity.count <= 1, o.esn.count <= 1, o.groups.isEmpty else { return nil }
        let s = ESPSelectedAlgorithms(encryption: o.encryption[0], integrity: o.integrity.first, esn: o.esn.first ?? false)
        guard s.encryption.isAEAD == (s.integrity == nil) else { return nil }
        let ok = ours.contains { set in
            set.encryption.contains(s.encryption) && set.esn.contains(s.esn)
                && (s.integrity.map(set.integrity.contains) ?? true)
        }
        return ok ? (s, spi) : nil
    }
}
