// RFC 7296 §2.1 (retransmission), §2.2 (message IDs), §2.3 (window size 1).

/// Our one outstanding request (window size 1): the exact bytes to resend, when, and how often
/// it has been resent. Retransmissions are the same bytes, never re-encrypted (§2.1).
struct IKEOutstandingRequest {
    var exchange: IKEExchangeType
    var messageID: UInt32
    var datagram: IKEDatagram
    var retransmissions: Int
    var deadline: IKEInstant
    var firstSent: IKEInstant
    /// The SKF fragments sent in its place (RFC 7383 §2.5), all resent each time (§2.6).
    var fragments: [IKEDatagram] = []

    var wire: [IKEDatagram] { fragments.isEmpty ? [datagram] : fragments }
}

/// The answer to the peer's latest request, kept so that a retransmitted request is answered
/// from here and never processed twice (§2.1). The request bytes identify a retransmission:
/// the same message ID with different contents is not one.
struct IKECachedResponse {
    var messageID: UInt32
    var request: [UInt8]
    var response: [UInt8]
    /// The response's SKF fragments, when it was sent fragmented (RFC 7383 §2.6).
    var fragments: [[UInt8]] = []

    var wire: [[UInt8]] { fragments.isEmpty ? [response] : fragments }
}
