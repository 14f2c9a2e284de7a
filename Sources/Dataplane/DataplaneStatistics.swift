/// Counters of the data plane as a whole: what no single SA can count. A plain value the daemon
/// copies out for `status` and metrics.
public struct DataplaneStatistics: Sendable, Hashable {
    /// UDP datagrams received on 4500 (all kinds).
    public var datagramsReceived: UInt64 = 0
    /// Non-ESP-marker datagrams handed to the IKE handler (RFC 3948 §2.2).
    public var ikeDatagrams: UInt64 = 0
    /// IKE datagrams dropped because no IKE handler is attached.
    public var ikeDatagramsDropped: UInt64 = 0
    /// One-octet 0xFF NAT-keepalives (RFC 3948 §2.3): expected, not an error.
    public var natKeepalives: UInt64 = 0
    /// Datagrams that are neither IKE, ESP nor a keepalive (too short, bad marker).
    public var garbageDatagrams: UInt64 = 0
    /// Datagrams longer than a buffer slot (MSG_TRUNC): dropped.
    public var truncatedDatagrams: UInt64 = 0
    /// ESP packets whose SPI matches no installed inbound SA (RFC 4303 §3.4.2).
    public var unknownSPI: UInt64 = 0
    /// ESP packets too short to be ESP, refused before any SA lookup.
    public var malformedESP: UInt64 = 0
    /// Decrypted packets the TUN device refused.
    public var tunWriteErrors: UInt64 = 0
    /// Packets read from a TUN device while its peer had no outbound SA: dropped.
    public var outboundWithoutSA: UInt64 = 0
    /// Packets an outbound SA refused (exhausted, hard lifetime, not IP): dropped.
    public var encapsulationErrors: UInt64 = 0
    /// ESP packets sent to peers.
    public var datagramsSent: UInt64 = 0
    /// ESP packets the socket refused (sendmmsg errors other than a full buffer, which waits).
    public var sendErrors: UInt64 = 0
    /// TUN read errors (not EAGAIN).
    public var tunReadErrors: UInt64 = 0
    /// TCP super-packets read from a TUN with offloads (each cut into MSS-sized segments).
    public var tunSuperPacketsRead: UInt64 = 0
    /// Coalesced GSO writes to a TUN, and the decrypted segments they carried (GRO).
    public var tunCoalescedWrites: UInt64 = 0
    public var tunCoalescedSegments: UInt64 = 0
    /// Packets read from a TUN whose virtio header the data plane cannot honour (an unoffered
    /// GSO type, a truncated header): dropped.
    public var offloadErrors: UInt64 = 0

    public init() {}
}
