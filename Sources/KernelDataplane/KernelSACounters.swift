import KernelModel

// linux/xfrm.h struct xfrm_usersa_info: sel (56) | id (24) | saddr (16) | lft (64) | curlft at offset
// 160: struct xfrm_lifetime_cur { __u64 bytes, packets, add_time, use_time; } (host byte order), then
// struct xfrm_stats { __u32 replay_window, replay, integrity_failed; } at 192.

/// What the kernel counted for the two states of one Child SA (`ip -s xfrm state`): the
/// packets and bytes each carried, and the inbound drops for replays and bad ICVs.
/// Bytes are the kernel's (inner packet bytes, as `lifetime current` shows them).
public struct KernelSACounters: Hashable, Sendable {
    public var inboundPackets: UInt64 = 0
    public var inboundBytes: UInt64 = 0
    public var outboundPackets: UInt64 = 0
    public var outboundBytes: UInt64 = 0
    /// Inbound packets dropped as replays (xfrm_stats.replay).
    public var inboundReplayDrops: UInt32 = 0
    /// Inbound packets that failed the ICV check (xfrm_stats.integrity_failed).
    public var inboundIntegrityFailures: UInt32 = 0

    public init() {}

    static let currentLifetimeOffset = 160

    /// The packet and byte counts of one state, from its XFRM_MSG_NEWSA (a GETSA reply or a dump
    /// entry). Truncated input is an error, never a zero that would look like an idle SA.
    static func usage(of message: NetlinkMessage) throws(NetlinkDecodeError) -> (packets: UInt64, bytes: UInt64, replay: UInt32, integrity: UInt32) {
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .truncated, context: "xfrm_usersa_info")
        try r.skip(currentLifetimeOffset)
        let bytes = try r.readUInt64("curlft.bytes")
        let packets = try r.readUInt64("curlft.packets")
        try r.skip(16)                                  // add_time, use_time
        _ = try r.readUInt32("stats.replay_window")
        let replay = try r.readUInt32("stats.replay")
        let integrity = try r.readUInt32("stats.integrity_failed")
        return (packets, bytes, replay, integrity)
    }
}
