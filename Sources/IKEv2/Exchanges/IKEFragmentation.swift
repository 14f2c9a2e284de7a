// RFC 7383 (IKEv2 message fragmentation):
//   §2.3  HDR, SAi1, KEi, Ni, [N(IKEV2_FRAGMENTATION_SUPPORTED)]  -->
//                            <--  HDR, SAr1, KEr, Nr, [N(IKEV2_FRAGMENTATION_SUPPORTED)]
//   §2.5  HDR, SKF{1/n} {...}, ..., HDR, SKF{n/n} {...}: an SK message too large for one
//         datagram is split after encoding its inner payloads; each piece is padded, encrypted
//         and integrity-protected on its own, all with the message's header and Message ID.
//   §2.6  each received fragment is authenticated before it is kept; a retransmission sends
//         every fragment again; a retransmitted request's fragment 1 brings the cached response.

/// What this IKE SA knows about fragmentation: whether both sides support it, the fragments of
/// the message we last sealed, the message being reassembled, and counts for status and tests.
struct IKEFragmentationState {
    var peerSupports = false
    /// The last message `sealed` produced and its fragments, found again by `wireMessages`.
    var outbound: (whole: [UInt8], fragments: [[UInt8]])?
    var reassembly = IKEFragmentReassembly()
    /// The inner payloads of a reassembled message while it is dispatched (`openProtected`).
    var dispatching: (messageID: UInt32, payloads: [IKEPayload])?
    var statistics = IKEFragmentationStatistics()
}

/// Fragment counts of one IKE SA (RFC 7383), for logs and tests.
public struct IKEFragmentationStatistics: Hashable, Sendable {
    /// Messages we sent as fragments, and the fragments (first transmissions only).
    public var messagesFragmented = 0
    public var fragmentsSent = 0
    /// Authenticated fragments kept, and messages reassembled from them.
    public var fragmentsReceived = 0
    public var messagesReassembled = 0
    /// Fragments dropped: failed authentication, or refused by the reassembly limits.
    public var fragmentsRejected = 0
    public init() {}
}

extension IKESession {
    /// Both sides announced IKEV2_FRAGMENTATION_SUPPORTED (§2.3).
    public var fragmentationNegotiated: Bool { configuration.fragmentation.enabled && fragmentation.peerSupports }

    public var fragmentationStatistics: IKEFragmentationStatistics { fragmentation.statistics }

    // MARK: §2.3 negotiation

    /// Our notify for IKE_SA_INIT: always in a request when enabled; in a response only when the
    /// request carried the peer's.
    func fragmentationNotify(answering request: [IKENotify]? = nil) -> [IKEPayload] {
        guard configuration.fragmentation.enabled else { return [] }
        if let request, !request.contains(where: { $0.type == .ikev2FragmentationSupported }) { return [] }
        return [.notify(IKENotify(type: .ikev2FragmentationSupported))]
    }

    func recordPeerFragmentationSupport(_ notifies: [IKENotify]) {
        fragmentation.peerSupports = notifies.contains { $0.type == .ikev2FragmentationSupported }
    }

    // MARK: §2.5 sending

    /// Called by `sealed` with the message it protected: when fragmentation is negotiated and
    /// the message does not fit one datagram, seals it again as SKF fragments for
    /// `wireMessages` to send in its place.
    func prepareFragments(whole: [UInt8], header: IKEHeader, payloads: [IKEPayload]) throws {
        fragmentation.outbound = nil
        guard fragmentationNegotiated, let protection else { return }
        let limit = configuration.fragmentation.maxMessageLength(local: local, peer: peer)
        guard whole.count > limit else { return }
        let (iv, icv, block) = protection.outboundOverhead
        // IKE header 28 + SKF header 4 + Fragment Number/Total Fragments 4 + IV + ICV; the
        // encrypted part is whole blocks holding the piece, padding and the Pad Length octet.
        let available = limit - 36 - iv - icv
        let piece = available - available % block - 1
        guard piece >= 16 else {
            throw IKEProtectionError(message: "fragment size \(configuration.fragmentation.maxDatagramSize) leaves no room for data")
        }
        let (first, inner) = try IKEMessage.encodeInnerPayloads(payloads)
        let count = (inner.count + piece - 1) / piece
        guard count <= Int(UInt16.max) else { throw IKEProtectionError(message: "message too large to fragment") }
        var fragmentHeader = header
        fragmentHeader.nextPayload = .encryptedFragment
        var fragments: [[UInt8]] = []
        for n in 0..<count {
            let chunk = inner[(n * piece)..<min(inner.count, (n + 1) * piece)]
            let number = UInt16(n + 1), total = UInt16(count)
            // §2.5: the first inner payload's type goes in fragment 1 only.
            let next: IKEPayloadType = n == 0 ? first : .noNextPayload
            fragments.append(try protection.seal(header: fragmentHeader, plaintext: chunk, random: &random) {
                .encryptedFragment(IKEEncryptedFragment(firstPayload: next, fragmentNumber: number, totalFragments: total, data: $0))
            })
        }
        fragmentation.outbound = (whole, fragments)
        fragmentation.statistics.messagesFragmented += 1
        fragmentation.statistics.fragmentsSent += fragments.count
    }

    /// What goes on the wire for a message `sealed` returned: its fragments, or itself.
    func wireMessages(_ bytes: [UInt8]) -> [[UInt8]] {
        if let o = fragmentation.outbound, o.whole == bytes { return o.fragments }
        return [bytes]
    }

    // MARK: §2.6 receiving

    /// The inner payloads of a protected message: those of the reassembled message being
    /// dispatched (every fragment already authenticated), or its SK payload's after the ICV
    /// check. Nil for anything that fails it.
    func openProtected(_ message: IKEMessage, _ datagram: IKEDatagram) -> [IKEPayload]? {
        if let r = fragmentation.dispatching, r.messageID == message.header.messageID { return r.payloads }
        guard let sk = message.encryptedPayload, let protection else { return nil }
        return try? protection.open(raw: datagram.bytes, sk: sk)
    }

    /// One SKF datagram. Dropped silently unless fragmentation was negotiated, it belongs to our
    /// outstanding request or the peer's next request, and it authenticates (§2.6: a forged
    /// fragment must not displace a genuine one). When it completes its message, the message is
    /// dispatched like an unfragmented one.
    func receiveFragment(_ header: IKEHeader, _ datagram: IKEDatagram, now: IKEInstant) {
        guard fragmentationNegotiated, let protection, !responderSPI.isZero, header.responderSPI == responderSPI,
              header.isInitiator != isInitiator,
              let message = try? IKEMessage(decoding: datagram.bytes), let skf = message.encryptedFragment else { return }
        if header.isResponse {
            guard let request = window.outstanding, header.messageID == request.messageID, header.exchangeType == request.exchange else { return }
        } else if let cached = window.cachedResponse, header.messageID == cached.messageID {
            // §2.6: a retransmitted request; only its first fragment (authentic) brings the
            // response again, so a burst of n fragments does not send n responses.
            // RFC 9370: an IKE_INTERMEDIATE request came under the keys before the exchange's.
            let previous: IKEMessageProtection? = if case .initAnswered(let h) = phase { h.previousProtection } else { nil }
            guard skf.fragmentNumber == 1,
                  (try? protection.openPlaintext(raw: datagram.bytes, data: skf.data)) != nil
                    || (try? previous?.openPlaintext(raw: datagram.bytes, data: skf.data)) != nil else { return }
            for bytes in cached.wire {
                transmitQueue.append(IKEDatagram(bytes: bytes, source: datagram.destination, destination: datagram.source))
            }
            return
        } else {
            guard !state.isTerminal, header.messageID == window.expectedPeerRequestID else { return }
        }
        guard let plaintext = try? protection.openPlaintext(raw: datagram.bytes, data: skf.data) else {
            fragmentation.statistics.fragmentsRejected += 1
            return
        }
        let key = IKEFragmentReassembly.Key(messageID: header.messageID, isResponse: header.isResponse)
        switch fragmentation.reassembly.add(key, number: skf.fragmentNumber, total: skf.totalFragments,
                                             firstPayload: skf.firstPayload, plaintext: plaintext, now: now,
                                             policy: configuration.fragmentation) {
        case .stored:
            fragmentation.statistics.fragmentsReceived += 1
        case .rejected:
            fragmentation.statistics.fragmentsRejected += 1
        case .complete(let first, let whole):
            fragmentation.statistics.fragmentsReceived += 1
            guard let payloads = try? IKEMessage.decodeInnerPayloads(whole, firstPayload: first) else { return }
            fragmentation.statistics.messagesReassembled += 1
            var reassembledHeader = header
            reassembledHeader.nextPayload = .encrypted
            let reassembled = IKEMessage(header: reassembledHeader, payloads: [])
            fragmentation.dispatching = (header.messageID, payloads)
            defer { fragmentation.dispatching = nil }
            if header.isResponse {
                receiveResponse(reassembledHeader, datagram, now: now, reassembled: reassembled)
            } else {
                receiveRequest(reassembledHeader, datagram, now: now, reassembled: reassembled)
            }
        }
    }
}
