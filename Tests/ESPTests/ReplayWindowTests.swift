// RFC 4303 §3.4.3 and Appendix A (ESN) anti-replay window; bitmap after RFC 6479.
import ESP
import TestSupport
import Testing

/// `accept` outside the #expect macro, which cannot call a mutating method on a captured var.
private func accept(_ window: inout ReplayWindow, _ sequence: UInt64) -> Bool { window.accept(sequence) }

@Suite("Replay window (RFC 4303 §3.4.3, Appendix A; RFC 6479)")
struct ReplayWindowTests {
    static let sizes = [32, 64, 65, 100, 128, 1000, 1024, 2048, 4096, 65536]

    @Test("sizes outside 32 ... 2^21 are refused", arguments: [0, 1, 31, -64, (1 << 21) + 1])
    func invalidSize(size: Int) {
        #expect(errorCode { try ReplayWindow(size: size, extendedSequenceNumbers: false) } == .invalidConfiguration)
    }

    @Test("sequence number 0 is never valid, before or after other packets")
    func zeroNeverValid() throws {
        for esn in [false, true] {
            var window = try ReplayWindow(size: 64, extendedSequenceNumbers: esn)
            #expect(errorCode { try window.check(0) } == .invalidSequence)
            #expect(!accept(&window, 0))
            #expect(errorCode { try window.reconstruct(low: 0) } == .invalidSequence)
            #expect(accept(&window, 1))
            #expect(accept(&window, 40))
            #expect(errorCode { try window.check(0) } == .invalidSequence)
            #expect(!accept(&window, 0))
            #expect(window.highest == 40)
        }
    }

    @Test("duplicates are refused; check alone changes nothing (the ICV has not verified yet)")
    func duplicates() throws {
        var window = try ReplayWindow(size: 64, extendedSequenceNumbers: false)
        try window.check(7)
        try window.check(7)   // checking twice: still acceptable
        #expect(!window.contains(7))
        #expect(window.highest == 0)
        #expect(accept(&window, 7))
        #expect(errorCode { try window.check(7) } == .replayed)
        #expect(!accept(&window, 7))
        // Out of order inside the window: each accepted exactly once.
        for seq: UInt64 in [3, 1, 6, 2] {
            try window.check(seq)
            #expect(accept(&window, seq))
            #expect(errorCode { try window.check(seq) } == .replayed)
        }
        try window.check(4)
        try window.check(5)
        try window.check(8)
    }

    @Test("exact left edge: highest - size + 1 is inside, highest - size is too old", arguments: sizes)
    func exactEdges(size: Int) throws {
        var window = try ReplayWindow(size: size, extendedSequenceNumbers: true)
        let top = UInt64(10 * size + 37)
        #expect(accept(&window, top))
        let s = UInt64(size)
        try window.check(top - s + 1)
        #expect(errorCode { try window.check(top - s) } == .tooOld)
        #expect(errorCode { try window.check(top - s - 1) } == .tooOld)
        #expect(errorCode { try window.check(1) } == .tooOld)
        #expect(!accept(&window, top - s))
        #expect(accept(&window, top - s + 1))
        #expect(errorCode { try window.check(top - s + 1) } == .replayed)
        // One step right slides the edge by exactly one.
        #expect(accept(&window, top + 1))
        #expect(errorCode { try window.check(top - s + 1) } == .tooOld)
        try window.check(top - s + 2)
        try window.check(top + 2)
    }

    @Test("sliding never resurrects stale bits: a jump of whole ring turns clears exactly the slots it crosses", arguments: sizes)
    func slideClearsStaleBits(size: Int) throws {
        var window = try ReplayWindow(size: size, extendedSequenceNumbers: true)
        let s = UInt64(size)
        for seq in 1...(2 * s) { #expect(accept(&window, seq)) }
        // Jumps of various lengths, including multiples of 64 that land on the same ring slot.
        var top = 2 * s
        var tops: Set<UInt64> = []
        for jump: UInt64 in [1, 63, 64, 65, s - 1, s, s + 1, 64 * 8, 64 * 64, 64 * 1024, 1 << 33] {
            top += jump
            #expect(accept(&window, top))
            tops.insert(top)
            let bottom = top - s + 1
            // Inside the new window only 1 ... 2·size and the earlier tops were ever accepted.
            var probe = bottom
            while probe <= top {
                let wasAccepted = probe <= 2 * s || tops.contains(probe)
                #expect((errorCode { try window.check(probe) } == .replayed) == wasAccepted, "size \(size) jump \(jump) probe \(probe)")
                probe += max(1, s / 97)
            }
        }
    }

    @Test("far-future jump: the old window is gone, the new one is empty")
    func farFuture() throws {
        var window = try ReplayWindow(size: 1024, extendedSequenceNumbers: true)
        for seq: UInt64 in 1...500 { window.accept(seq) }
        let far: UInt64 = 1 << 40
        #expect(accept(&window, far))
        #expect(errorCode { try window.check(500) } == .tooOld)
        try window.check(far - 1023)
        try window.check(far - 1)
        #expect(errorCode { try window.check(far - 1024) } == .tooOld)
    }

    /// A random walk compared with a model that remembers every accepted number.
    @Test("agrees with a set-based model over a seeded random walk", arguments: [32, 64, 200, 1024, 2048])
    func modelCheck(size: Int) throws {
        var window = try ReplayWindow(size: size, extendedSequenceNumbers: true)
        var accepted = Set<UInt64>()
        var highest: UInt64 = 0
        var rng = SplitMix64(seed: UInt64(size))
        for _ in 0..<20_000 {
            let r = rng.next() % 100
            let seq: UInt64
            switch r {
            case 0..<50: seq = highest + 1 + rng.next() % 4                                   // in order
            case 50..<85: seq = highest &- rng.next() % UInt64(size + 8)                       // late / edge
            case 85..<97: seq = highest + rng.next() % UInt64(3 * size)                         // jump
            default: seq = highest + (rng.next() % 16) * 64                                    // same ring slot
            }
            let expected: ESPError.Code?
            if seq == 0 || seq > highest &+ (1 << 62) { expected = .invalidSequence }
            else if seq > highest { expected = nil }
            else if highest - seq >= UInt64(size) { expected = .tooOld }
            else if accepted.contains(seq) { expected = .replayed }
            else { expected = nil }
            guard expected != .invalidSequence else { continue }
            #expect(errorCode { try window.check(seq) } == expected, "seq \(seq) highest \(highest)")
            let isNew = window.accept(seq)
            #expect(isNew == (expected == nil))
            if isNew {
                accepted.insert(seq)
                highest = max(highest, seq)
            }
        }
    }

    @Test("without ESN the packet's 32 bits are the sequence number")
    func reconstructWithoutESN() throws {
        var window = try ReplayWindow(size: 64, extendedSequenceNumbers: false)
        #expect(try window.reconstruct(low: 1) == 1)
        #expect(try window.reconstruct(low: .max) == UInt64(UInt32.max))
        window.accept(UInt64(UInt32.max) - 5)
        #expect(try window.reconstruct(low: 3) == 3)   // no wrap without ESN: simply too old
        #expect(errorCode { try window.check(3) } == .tooOld)
    }

    // RFC 4303 Appendix A2.2, Cases A and B, at the 2^32 boundaries.
    @Test("ESN: Seqh across a 2^32 boundary, both cases of Appendix A2.2")
    func reconstructAcrossBoundary() throws {
        let w: UInt64 = 64
        var window = try ReplayWindow(size: Int(w), extendedSequenceNumbers: true)
        // Before any packet (T = 0, Case B): the previous subspace does not exist.
        #expect(try window.reconstruct(low: 1) == 1)
        #expect(errorCode { try window.reconstruct(low: .max) } == .invalidSequence)
        #expect(errorCode { try window.reconstruct(low: UInt32.max - UInt32(w) + 2) } == .invalidSequence)
        #expect(try window.reconstruct(low: UInt32.max - UInt32(w) + 1) == UInt64(UInt32.max) - w + 1)

        // Case A just below the boundary: small Seql means the next subspace.
        let beforeWrap = (UInt64(1) << 32) - 10
        window.accept(beforeWrap)
        #expect(try window.reconstruct(low: 5) == (1 << 32) + 5)
        #expect(try window.reconstruct(low: 0) == 1 << 32)   // 0 is fine as the low half of 2^32
        #expect(try window.reconstruct(low: UInt32(beforeWrap - 20)) == beforeWrap - 20)
        #expect(try window.reconstruct(low: UInt32(beforeWrap + 9)) == beforeWrap + 9)

        // Accept 2^32 + 5: now Case B (Tl = 5 < W - 1), the window straddles the boundary.
        window.accept((1 << 32) + 5)
        #expect(try window.reconstruct(low: UInt32.max - 3) == (1 << 32) - 4)
        #expect(errorCode { try window.check((1 << 32) - 10) } == .replayed)
        try window.check((1 << 32) - 11)
        #expect(try window.reconstruct(low: 3) == (1 << 32) + 3)
        #expect(try window.reconstruct(low: 1000) == (1 << 32) + 1000)

        // At the very top of the 64-bit space, the next subspace does not exist either.
        var top = try ReplayWindow(size: Int(w), extendedSequenceNumbers: true)
        top.accept(UInt64.max - 100)
        #expect(try top.reconstruct(low: UInt32.max) == .max)
        #expect(errorCode { try top.reconstruct(low: 5) } == .invalidSequence)
    }

    @Test("ESN: any number from T - W + 1 to T + 2^32 - W is recovered from its low 32 bits", arguments: [32, 1024, 4096])
    func reconstructProperty(size: Int) throws {
        var rng = SplitMix64(seed: 0xE5E5 ^ UInt64(size))
        let w = UInt64(size)
        for _ in 0..<2_000 {
            // T near a boundary (within ±2W) half the time, anywhere (well below 2^64) otherwise.
            let k = rng.next() % 1000 + 1
            let t: UInt64 = rng.next() % 2 == 0
                ? (k << 32) &+ (rng.next() % (4 * w)) &- 2 * w
                : rng.next() >> 2
            var window = try ReplayWindow(size: size, extendedSequenceNumbers: true)
            window.accept(t)
            let delta = rng.next() % ((1 << 32) - 1)        // offset from the window bottom
            let seq = t - w + 1 + delta
            #expect(try window.reconstruct(low: UInt32(truncatingIfNeeded: seq)) == seq, "T \(t) seq \(seq)")
        }
    }
}
