// RFC 7296 §3.1 (IKE header: SPIs, exchange type, I and R flags) and §2.6 (the responder's
// SPI is zero in the first IKE_SA_INIT request).
import NetTypes

/// What the endpoint reads from the header, decoded once per datagram, to pick the IKE SA; the
/// session it picks gets the same header and decodes only the payloads.
extension IKEHeader {
    /// The SPI the receiver chose: the responder's SPI when the original initiator sent the
    /// message, the initiator's otherwise. Zero when not chosen yet.
    public var receiverSPI: IKESPI { isInitiator ? responderSPI : initiatorSPI }

    /// The SPI the sender chose.
    public var senderSPI: IKESPI { isInitiator ? initiatorSPI : responderSPI }

    /// A new IKE SA being opened towards us (§2.6): IKE_SA_INIT request, responder SPI zero.
    public var isNewSARequest: Bool {
        exchangeType == .ikeSAInit && !isResponse && isInitiator && responderSPI.isZero
    }
}
