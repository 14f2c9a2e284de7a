// RFC 7296 §3.3: what we offer or accept, one proposal per set (strongSwan's proposal strings).
import CryptoCore
import NetTypes

/// One IKE SA proposal: every algorithm we accept per transform type, in preference order
/// (`aes256gcm16-prfsha384-ecp384`). Integrity is empty for AEAD ciphers.
public struct IKEAlgorithmSet: Hashable, Sendable, CustomStringConvertible {
    public var encryption: [EncryptionAlgorithm]
    public var integrity: [IntegrityAlgorithm]
    public var prf: [PRFAlgorithm]
    public var groups: [KeyExchangeGroup]

    public init(encryption: [EncryptionAlgorithm], integrity: [IntegrityAlgorithm] = [], prf: [PRFAlgorithm],
                groups: [KeyExchangeGroup]) {
        self.encryption = encryption
        self.integrity = integrity
        self.prf = prf
        self.groups = groups
    }

    public var description: String { IKEProposalText.format(self) }

    /// The SA payload proposal (RFC 7296 §3.3.1; SPI empty for the initial IKE SA, the sender's
    /// new 8-octet SPI in an IKE SA rekey, §1.3.2).
    func wireProposal(number: UInt8, spi: [UInt8] = []) -> IKEProposal {
        IKEProposal(number: number, protocolID: .ike, spi: spi, transforms:
            encryption.map { IKETransform(.encryption($0)) } + prf.map { IKETransform(.prf($0)) }
            + integrity.map { IKETransform(.integrity($0)) } + groups.map { IKETransform(.keyExchange($0)) })
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

    public var asSet: IKEAlgorithmSet {
        IKEAlgorithmSet(encryption: [encryption], integrity: integrity.map { [$0] } ?? [], prf: [prf], groups: [group])
    }
    public var description: String { asSet.description }
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
