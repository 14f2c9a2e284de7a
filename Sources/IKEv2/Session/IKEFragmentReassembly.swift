// RFC 7383 §2.6: reassembling one message from authenticated SKF fragments.

/// The fragments of the one message being reassembled, each already authenticated and
/// decrypted (only plaintext is kept). One per IKE SA: a fragment of another message (another
/// Message ID or direction) discards what was collected, so memory stays at one message, within
/// `IKEFragmentationPolicy.maxMessageSize`.
struct IKEFragmentReassembly {
    struct Key: Hashable {
        var messageID: UInt32
        var isResponse: Bool
    }

    /// Why a fragment was not kept. Stable codes for tests and logs.
    struct Rejection: Error, Hashable, CustomStringConvertible {
        enum Code: String, Hashable {
            case tooManyFragments = "too-many-fragments"
            case tooLarge = "too-large"
            case staleTotal = "stale-total"
            case duplicate = "duplicate"
        }

        var code: Code
        var message: String
        var description: String { "\(code.rawValue): \(message)" }
    }

    enum Outcome {
        case stored
        /// All fragments are in: the inner payload chain's plaintext, and its first payload type.
        case complete(firstPayload: IKEPayloadType, plaintext: [UInt8])
        case rejected(Rejection)
    }

    private(set) var key: Key?
    private var total: UInt16 = 0
    private var pieces: [UInt16: [UInt8]] = [:]
    private var firstPayload: IKEPayloadType = .noNextPayload
    private(set) var size = 0
    /// When the last fragment was kept: the timeout counts from there, so a message whose
    /// fragments trickle in over the sender's whole retransmission schedule still completes.
    private var lastKept = IKEInstant(nanoseconds: 0)

    var isEmpty: Bool { key == nil }

    mutating func reset() {
        key = nil
        total = 0
        pieces = [:]
        firstPayload = .noNextPayload
        size = 0
    }

    mutating func add(_ key: Key, number: UInt16, total: UInt16, firstPayload: IKEPayloadType, plaintext: [UInt8],
                      now: IKEInstant, policy: IKEFragmentationPolicy) -> Outcome {
        guard Int(total) <= policy.maxFragments else {
            return .rejected(Rejection(code: .tooManyFragments, message: "message \(key.messageID) announces \(total) fragments; the limit is \(policy.maxFragments)"))
        }
        if let current = self.key, current == key, now.seconds(since: lastKept) > policy.reassemblyTimeoutSeconds {
            reset()
        }
        if self.key != key || total > self.total {
            // §2.6: another message, or the sender re-fragmented it into more pieces: start over.
            reset()
            self.key = key
            self.total = total
        } else if total < self.total {
            // §2.6: a fragment of an older, coarser fragmentation of this message.
            return .rejected(Rejection(code: .staleTotal, message: "fragment \(number) of \(total), but \(self.total) were announced"))
        }
        guard pieces[number] == nil else {
            return .rejected(Rejection(code: .duplicate, message: "fragment \(number) of message \(key.messageID) again"))
        }
        guard size + plaintext.count <= policy.maxMessageSize else {
            let had = size
            reset()
            return .rejected(Rejection(code: .tooLarge, message: "message \(key.messageID) exceeds \(policy.maxMessageSize) octets (\(had + plaintext.count) so far)"))
        }
        pieces[number] = plaintext
        size += plaintext.count
        lastKept = now
        if number == 1 { self.firstPayload = firstPayload }
        guard pieces.count == Int(self.total) else { return .stored }
        var whole: [UInt8] = []
        whole.reserveCapacity(size)
        for n in 1...self.total { whole += pieces[n] ?? [] }
        let first = self.firstPayload
        reset()
        return .complete(firstPayload: first, plaintext: whole)
    }
}
