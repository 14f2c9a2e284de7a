// RFC 7296 §3.1 (IKE header: SPIs, exchange type, I and R flags) and §2.6 (the responder's
// SPI is zero in the first IKE_SA_INIT request).

/// The few header fields the daemon needs to pick the session for a datagram, read without
/// decrypting or decoding payloads.
public struct IKEMessageRoute: Hashable, Sendable {
    public var initiatorSPI: UInt64
    public var responderSPI: UInt64
    public var exchangeType: UInt8
    /// I flag: the sender is the original initiator of the IKE SA.
    public var fromOriginalInitiator: Bool
    /// R flag.
    public var isResponse: Bool

    public static let ikeSAInit: UInt8 = 34
    static let headerSize = 28

    /// Nil when the datagram is shorter than an IKE header, or not IKE version 2.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.headerSize, bytes[17] >> 4 == 2 else { return nil }
        func u64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        initiatorSPI = u64(0)
        responderSPI = u64(8)
        exchangeType = bytes[18]
        fromOriginalInitiator = bytes[19] & 0x08 != 0
        isResponse = bytes[19] & 0x20 != 0
    }

    /// The SPI the receiver chose: the responder's SPI when the original initiator sent the
    /// message, the initiator's otherwise. Zero when not chosen yet.
    public var receiverSPI: UInt64 { fromOriginalInitiator ? responderSPI : initiatorSPI }

    /// The SPI the sender chose.
    public var senderSPI: UInt64 { fromOriginalInitiator ? initiatorSPI : responderSPI }

    /// A new IKE SA being opened towards us (§2.6): IKE_SA_INIT request, responder SPI zero.
    public var isNewSARequest: Bool {
        exchangeType == Self.ikeSAInit && !isResponse && fromOriginalInitiator && responderSPI == 0
    }
}
