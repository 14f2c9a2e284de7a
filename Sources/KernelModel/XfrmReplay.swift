// RFC 4303 §3.4.3 (anti-replay window) and §2.2.1 (extended sequence numbers). The kernel takes a window of
// up to 32 packets in xfrm_usersa_info.replay_window (a u8, legacy bitmap), anything larger or ESN through
// XFRMA_REPLAY_ESN_VAL: struct xfrm_replay_state_esn { bmp_len (32-bit words), oseq, seq, oseq_hi, seq_hi,
// replay_window; __u32 bmp[]; } (24 bytes + bitmap). iproute2 sends the 24-byte head without a bitmap and
// the kernel accepts it for a new SA; we do the same, byte for byte.

/// How an SA checks replays.
public enum XfrmReplay: Hashable, Sendable {
    /// 32-bit sequence numbers with a window of `size` packets (0 disables the check, as on outbound SAs).
    case window(UInt32)
    /// 64-bit extended sequence numbers (XFRM_STATE_ESN) with a window of `size` packets.
    case extendedSequenceNumbers(window: UInt32)

    /// The largest window the kernel's ESN code accepts (XFRMA_REPLAY_ESN_VAL bitmap is at most 4096 bytes).
    public static let maximumWindow: UInt32 = 4096 * 8

    var windowSize: UInt32 {
        switch self {
        case .window(let w), .extendedSequenceNumbers(let w): return w
        }
    }

    /// The value of the u8 `replay_window` field in xfrm_usersa_info.
    var legacyField: UInt8 {
        if case .window(let w) = self, w <= 32 { return UInt8(w) }
        return 0
    }

    var needsESNAttribute: Bool {
        switch self {
        case .window(let w): return w > 32
        case .extendedSequenceNumbers: return true
        }
    }

    func encodeAttribute(into w: inout NetlinkWriter) throws(KernelModelError) {
        guard needsESNAttribute else { return }
        guard windowSize <= XfrmReplay.maximumWindow else {
            throw KernelModelError(.outOfRange, "replay window \(windowSize) above \(XfrmReplay.maximumWindow)")
        }
        var e = NetlinkWriter()
        e.write((windowSize + 31) / 32)   // bmp_len
        e.write(UInt32(0))                // oseq
        e.write(UInt32(0))                // seq
        e.write(UInt32(0))                // oseq_hi
        e.write(UInt32(0))                // seq_hi
        e.write(windowSize)
        w.attribute(XfrmAttribute.replayESNVal, e.bytes)
    }
}
