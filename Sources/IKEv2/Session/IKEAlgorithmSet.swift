// RFC 7296 §3.3: what we offer or accept, one proposal per set (strongSwan's proposal strings).
import CryptoCore
import NetTypes

/// RFC 9370 §2.2.2: one of the transform types ADDITIONAL_KEY_EXCHANGE_1…7 (6…12). `groups` lists
/// the methods in preference order; nil is NONE (transform ID 0: this exchange may be skipped).
/// In a chosen proposal it holds exactly one entry.
public struct IKEAdditionalKeyExchange: Hashable, Sendable {
    public static let indices = 1...7
    /// 1…7: the N of ADDITIONAL_KEY_EXCHANGE_N.
    public var index: Int
    public var groups: [KeyExchangeGroup?]

    public init(index: Int, groups: [KeyExchangeGroup?]) {
        self.index = index
        self.groups = groups
    }

    /// The transform type on the wire (RFC 9370 §2.2.2: 6 + N - 1).
    public var transformType: UInt8 { UInt8(5 + index) }

    var transforms: [IKETransform] {
        groups.map { IKETransform(type: transformType, id: $0?.transformID ?? 0) }
    }
}

/// One IKE SA proposal: every algorithm we accept per transform type, in preference order
/// (`aes256gcm16-prfsha384-ecp384`, `aes256gcm16-prfsha384-x25519-ke1_mlkem768`). Integrity is
/// empty for AEAD ciphers.
public struct IKEAlgorithmSet: Hashable, Sendable, CustomStringConvertible {
    public var encryption: [EncryptionAlgorithm]
    public var integrity: [IntegrityAlgorithm]
    public var prf: [PRFAlgorithm]
    public var groups: [KeyExchangeGroup]
    /// RFC 9370 additional key exchanges, by index (empty: one key exchange, as RFC 7296).
    public var additional: [IKEAdditionalKeyExchange]

    public init(encryption: [EncryptionAlgorithm], integrity: [IntegrityAlgorithm] = [], prf: [PRFAlgorithm],
                groups: [KeyExchangeGroup], additional: [IKEAdditionalKeyExchange] = []) {
        self.encryption = encryption
        self.integrity = integrity
        self.prf = prf
        self.groups = groups
        self.additional = additional.sorted { $0.index < $1.index }
    }

    public var description: String { IKEProposalText.format(self) }

    /// The set an IKE SA rekey offers and accepts: one key exchange (RFC 9370 §2.2.4's
    /// IKE_FOLLOWUP_KE is not implemented).
    var withoutAdditional: IKEAlgorithmSet {
        var s = self
        s.additional = []
        return s
    }

    /// The SA payload proposal (RFC 7296 §3.3.1; SPI empty for the initial IKE SA, the sender's
    /// new 8-octet SPI in an IKE SA rekey, §1.3.2). `withAdditional: false` for an IKE SA rekey,
    /// which Viaduct does with one key exchange (no IKE_FOLLOWUP_KE, RFC 9370 §2.2.4).
    func wireProposal(number: UInt8, spi: [UInt8] = [], withAdditional: Bool = true) -> IKEProposal {
        IKEProposal(number: number, protocolID: .ike, spi: spi, transforms:
            encryption.map { IKETransform(.encryption($0)) } + prf.map { IKETransform(.prf($0)) }
            + integrity.map { IKETransform(.integrity($0)) } + groups.map { IKETransform(.keyExchange($0)) }
            + (withAdditional ? additional.flatMap(\.transforms) : []))
    }
}

/// One ESP proposal for a Child SA (`aes256gcm16-x25519-esn`). `groups` are the PFS groups: the
/// first Child SA is keyed from the IKE SA's exchange (RFC 7296 §1.2, groups stripped from SAi2
/// as strongSwan does), so they only apply to CREATE_CHILD_SA rekeys (§1.3.3); empty = no PFS.
public struct ESPAlgorithmSet: Hashable, Sendable, CustomStringConvertible {
    public var encryption: [EncryptionAlgorithm]
    public var integrity: [IntegrityAlgorithm]
    /// Extended sequence numbers we accept, in preference order.
    public var esn: [Bool]
    /// Key exchange groups for PFS on rekey, in preference order.
    public var groups: [KeyExchangeGroup]

    public init(encryption: [EncryptionAlgorithm], integrity: [IntegrityAlgorithm] = [], esn: [Bool] = [false],
                groups: [KeyExchangeGroup] = []) {
        self.encryption = encryption
        self.integrity = integrity
        self.esn = esn
        self.groups = groups
    }

    public var description: String { IKEProposalText.format(self) }

    /// `withGroups: false` for IKE_AUTH's SAi2 (no KE payload there, §1.2).
    func wireProposal(number: UInt8, spi: ESPSPI, withGroups: Bool = false) -> IKEProposal {
        IKEProposal(number: number, protocolID: .esp, spi: IKEWire.bytes(spi), transforms:
            encryption.map { IKETransform(.encryption($0)) } + integrity.map { IKETransform(.integrity($0)) }
            + (withGroups ? groups.map { IKETransform(.keyExchange($0)) } : [])
            + esn.map { IKETransform(.extendedSequenceNumbers($0)) })
    }
}

/// The IKE SA algorithms both sides agreed on.
public struct IKESelectedAlgorithms: Hashable, Sendable, CustomStringConvertible {
    public var encryption: EncryptionAlgorithm
    public var integrity: IntegrityAlgorithm?
    public var prf: PRFAlgorithm
    public var group: KeyExchangeGroup
    /// RFC 9370: one method (or NONE) per additional key exchange type the proposal carried.
    public var additional: [IKEAdditionalKeyExchange] = []

    public var asSet: IKEAlgorithmSet {
        IKEAlgorithmSet(encryption: [encryption], integrity: integrity.map { [$0] } ?? [], prf: [prf], groups: [group],
                        additional: additional)
    }
    public var description: String { asSet.description }

    /// The additional key exchanges to run, in order, each in its own IKE_INTERMEDIATE exchange
    /// (RFC 9370 §2.2.2: NONE ones are skipped).
    public var additionalGroups: [KeyExchangeGroup] { additional.compactMap { $0.groups.first ?? nil } }
}

/// The Child SA algorithms both sides agreed on (`group`: the PFS group of a rekey, if any).
public struct ESPSelectedAlgorithms: Hashable, Sendable, CustomStringConvertible {
    public var encryption: EncryptionAlgorithm
    public var integrity: IntegrityAlgorithm?
    public var esn: Bool
    public var group: KeyExchangeGroup? = nil

    public var asSet: ESPAlgorithmSet {
        ESPAlgorithmSet(encryption: [encryption], integrity: integrity.map { [$0] } ?? [], esn: [esn],
                        groups: group.map { [$0] } ?? [])
    }
    public var description: String { asSet.description }
}
