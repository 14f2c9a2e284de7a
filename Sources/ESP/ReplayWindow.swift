// RFC 4303 §3.4.3 (Sequence Number Verification) and Appendix A (Extended Sequence Numbers:
// A2.1 window, A2.2 reconstruction of the high-order bits); the bitmap is laid out as in
// RFC 6479 (IPsec Anti-Replay Algorithm without Bit Shifting).

/// The receiver's anti-replay window for one inbound SA.
///
/// Why a ring of 64-bit blocks (RFC 6479) rather than one shifted bitmap: sliding the window forward
/// only zeroes the blocks it skips (at most the whole ring, whatever the jump), so a window of
/// thousands of packets costs the same per packet as one of 32. A large window matters to a
/// userspace data plane that encrypts in parallel and may reorder packets on the way out.
///
/// Why `check` and `accept` are separate: RFC 4303 §3.4.3 updates the window only after the
/// ICV verified, or a forger could slide it with garbage and make the real packets "too old".
///
/// With ESN the window holds 64-bit sequence numbers of which only the low 32 bits travel in the
/// packet; `reconstruct(low:)` recovers the high 32 bits from the window position (Appendix A2.2).
/// Sequence number 0 is never valid: the sender's first packet is 1 (§3.3.3).
public struct ReplayWindow: Sendable, Hashable {
    /// Bits kept when the topology does not say otherwise: big enough for a reordering pipeline,
    /// 512 bytes of bitmap per SA.
    public static let defaultSize = 2048
    /// RFC 4303 §3.4.3: at least 32 MUST be supported. The upper bound keeps the ring at most
    /// 256 KiB and far below 2^31, which Appendix A2.2 needs.
    public static let sizeRange = 32...(1 << 21)

    /// Packets the window spans: the highest accepted number and the `size - 1` below it.
    public let size: Int
    public let extendedSequenceNumbers: Bool
    /// T in Appendix A: the highest sequence number accepted so far, 0 before the first packet.
    public private(set) var highest: UInt64 = 0

    /// The ring: bit (n mod 64) of block (n / 64 mod blocks.count) is set once n was accepted.
    private var blocks: [UInt64]
    private let blockMask: UInt64

    public init(size: Int = ReplayWindow.defaultSize, extendedSequenceNumbers: Bool) throws(ESPError) {
        guard Self.sizeRange.contains(size) else {
            throw ESPError(.invalidConfiguration, "replay window size must be 32 ... 2^21", value: size)
        }
        // The window can straddle one more block than it fills; a power of two makes the ring
        // index a mask instead of a division.
        var count = 1
        while count < (size + 63) / 64 + 1 { count <<= 1 }
        self.size = size
        self.extendedSequenceNumbers = extendedSequenceNumbers
        self.blocks = [UInt64](repeating: 0, count: count)
        self.blockMask = UInt64(count - 1)
    }

    // RFC 4303 Appendix A2.2: Seqh from Seql, the top of the window T = Th:Tl and its size W.
    //     Case A: Tl >= W - 1   (window within one subspace)
    //         Seql >= Tl - W + 1  ->  Seqh = Th       else  Seqh = Th + 1
    //     Case B: Tl <  W - 1   (window spans two subspaces)
    //         Seql >= Tl - W + 1 (mod 2^32)  ->  Seqh = Th - 1   else  Seqh = Th
    /// The full sequence number a packet carrying `low` stands for. Without ESN that is `low`.
    /// Throws `.invalidSequence` when the answer falls before 1 or past 2^64 - 1: no sender can
    /// have sent it, so it is dropped before any cryptography is spent on it.
    public func reconstruct(low: UInt32) throws(ESPError) -> UInt64 {
        guard extendedSequenceNumbers else {
            guard low != 0 else { throw ESPError(.invalidSequence, "sequence number 0 is never sent") }
            return UInt64(low)
        }
        let tl = UInt32(truncatingIfNeeded: highest)
        let th = UInt32(truncatingIfNeeded: highest >> 32)
        let w = UInt32(size)
        let bottom = tl &- w &+ 1
        let high: UInt32
        if tl >= w - 1 {
            if low >= bottom {
                high = th
            } else {
                guard th < .max else { throw ESPError(.invalidSequence, "ESN would pass 2^64 - 1") }
                high = th + 1
            }
        } else {
            if low >= bottom {
                guard th > 0 else { throw ESPError(.invalidSequence, "ESN would fall before the first packet", value: Int(low)) }
                high = th - 1
            } else {
                high = th
            }
        }
        let sequence = UInt64(high) << 32 | UInt64(low)
        guard sequence != 0 else { throw ESPError(.invalidSequence, "sequence number 0 is never sent") }
        return sequence
    }

    /// Whether `sequence` may be accepted: throws `.tooOld` left of the window, `.replayed` when
    /// already accepted, `.invalidSequence` for 0. Changes nothing.
    public func check(_ sequence: UInt64) throws(ESPError) {
        guard sequence != 0 else { throw ESPError(.invalidSequence, "sequence number 0 is never sent") }
        if sequence > highest { return }
        guard highest - sequence < UInt64(size) else {
            throw ESPError(.tooOld, "sequence number left of the anti-replay window", value: Int(truncatingIfNeeded: sequence))
        }
        let block = Int(truncatingIfNeeded: (sequence >> 6) & blockMask)
        guard blocks[block] & (1 << (sequence & 63)) == 0 else {
            throw ESPError(.replayed, "sequence number already received", value: Int(truncatingIfNeeded: sequence))
        }
    }

    /// Records `sequence` as received, sliding the window when it is the new highest. Call only
    /// after `check` passed and the ICV verified. Returns false (and changes nothing) when the
    /// number is 0, a duplicate or too old, so a caller that skipped `check` still cannot corrupt
    /// the window.
    @discardableResult
    public mutating func accept(_ sequence: UInt64) -> Bool {
        guard sequence != 0 else { return false }
        if sequence > highest {
            let current = highest >> 6
            let target = sequence >> 6
            // Zero the blocks the top moves into; a jump past the whole ring zeroes each once.
            let skipped = min(target - current, blockMask + 1)
            var i: UInt64 = 1
            while i <= skipped {
                blocks[Int(truncatingIfNeeded: (current &+ i) & blockMask)] = 0
                i += 1
            }
            highest = sequence
        } else if highest - sequence >= UInt64(size) {
            return false
        }
        let block = Int(truncatingIfNeeded: (sequence >> 6) & blockMask)
        let bit: UInt64 = 1 << (sequence & 63)
        guard blocks[block] & bit == 0 else { return false }
        blocks[block] |= bit
        return true
    }

    /// Whether `sequence` has been accepted and is still inside the window (for tests and status).
    public func contains(_ sequence: UInt64) -> Bool {
        guard sequence != 0, sequence <= highest, highest - sequence < UInt64(size) else { return false }
        return blocks[Int(truncatingIfNeeded: (sequence >> 6) & blockMask)] & (1 << (sequence & 63)) != 0
    }
}
