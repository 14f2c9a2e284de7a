// RFC 7296 §2.6: IKE SAs are identified by the SPI pair in the header; a new IKE_SA_INIT
// request has a zero responder SPI.

/// What the daemon needs to hand a datagram to the right `IKESession` without decoding it.
public struct IKEDatagramRouting: Hashable, Sendable {
    public var initiatorSPI: UInt64
    public var responderSPI: UInt64
    public var exchangeType: UInt8
    public var isResponse: Bool
    /// True when the message came from the original initiator of the SA (I flag).
    public var fromOriginalInitiator: Bool

    /// nil when the datagram is too short to be IKE.
    public init?(_ bytes: [UInt8]) {
        guard let h = try? IKEHeader(decoding: bytes) else { return nil }
        initiatorSPI = h.initiatorSPI.rawValue
        responderSPI = h.responderSPI.rawValue
        exchangeType = h.exchangeType.rawValue
        isResponse = h.isResponse
        fromOriginalInitiator = h.isInitiator
    }

    /// A request that opens a new IKE SA: create a responder `IKESession` and feed it this
    /// datagram. (Its retransmissions route by initiator SPI and peer address to that session.)
    public var isNewSARequest: Bool {
        exchangeType == IKEExchangeType.ikeSAInit.rawValue && !isResponse && responderSPI == 0 && fromOriginalInitiator
    }
}
