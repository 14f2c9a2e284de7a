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

/// One IKE SA's exchange window (§2.3: each IKE SA has its own message IDs and window, size 1
/// here): the next request ID we use, the peer's next request ID we expect, our outstanding
/// request and the cached answer to the peer's latest. The session's current IKE SA and each
/// side SA (a replaced or redundant one, §2.18/§2.8.2) hold one each.
struct IKEExchangeWindow {
    var nextRequestID: UInt32 = 0
    var expectedPeerRequestID: UInt32 = 0
    var outstanding: IKEOutstandingRequest?
    var cachedResponse: IKECachedResponse?

    /// §2.2: the ID for our next request, which is then used up.
    mutating func takeRequestID() -> UInt32 {
        defer { nextRequestID &+= 1 }
        return nextRequestID
    }

    /// The answer to the peer's request `messageID` is `response` (and `request` its bytes):
    /// cached for retransmissions, and the next request the peer may send is the one after.
    mutating func answered(_ messageID: UInt32, request: [UInt8], response: [UInt8], fragments: [[UInt8]] = []) {
        cachedResponse = IKECachedResponse(messageID: messageID, request: request, response: response, fragments: fragments)
        expectedPeerRequestID = messageID &+ 1
    }
}
