// linux/xfrm.h struct xfrm_lifetime_cfg (64 bytes): soft/hard byte limits, soft/hard packet limits,
// soft/hard add_expires_seconds, soft/hard use_expires_seconds, all __u64. XFRM_INF (~0) means no limit for
// the byte/packet counts; 0 means none for the times. The soft limits raise EXPIRE(hard=0) (rekey), the
// hard ones EXPIRE(hard=1) and delete the SA.

/// When an SA (or policy) expires.
public struct XfrmLifetime: Hashable, Sendable {
    public static let size = 64
    public static let infinite = UInt64.max

    public var softBytes: UInt64
    public var hardBytes: UInt64
    public var softPackets: UInt64
    public var hardPackets: UInt64
    /// Seconds after installation.
    public var softAddSeconds: UInt64
    public var hardAddSeconds: UInt64
    /// Seconds after first use.
    public var softUseSeconds: UInt64
    public var hardUseSeconds: UInt64

    public init(softBytes: UInt64 = infinite, hardBytes: UInt64 = infinite, softPackets: UInt64 = infinite,
                hardPackets: UInt64 = infinite, softAddSeconds: UInt64 = 0, hardAddSeconds: UInt64 = 0,
                softUseSeconds: UInt64 = 0, hardUseSeconds: UInt64 = 0) {
        self.softBytes = softBytes
        self.hardBytes = hardBytes
        self.softPackets = softPackets
        self.hardPackets = hardPackets
        self.softAddSeconds = softAddSeconds
        self.hardAddSeconds = hardAddSeconds
        self.softUseSeconds = softUseSeconds
        self.hardUseSeconds = hardUseSeconds
    }

    /// No limits at all (what `ip xfrm` sends without `limit`).
    public static let unlimited = XfrmLifetime()

    func encode(into w: inout NetlinkWriter) {
        for v in [softBytes, hardBytes, softPackets, hardPackets, softAddSeconds, hardAddSeconds, softUseSeconds, hardUseSeconds] {
            w.write(v)
        }
    }

    static func decode(_ r: inout NetlinkReader) throws(NetlinkDecodeError) -> XfrmLifetime {
        var l = try r.window(size, context: "xfrm_lifetime_cfg")
        return XfrmLifetime(softBytes: try l.readUInt64(), hardBytes: try l.readUInt64(),
                            softPackets: try l.readUInt64(), hardPackets: try l.readUInt64(),
                            softAddSeconds: try l.readUInt64(), hardAddSeconds: try l.readUInt64(),
                            softUseSeconds: try l.readUInt64(), hardUseSeconds: try l.readUInt64())
    }
}

/// `struct xfrm_lifetime_cur` (32 bytes): what the kernel has counted so far; only ever read.
public struct XfrmLifetimeCurrent: Hashable, Sendable {
    public static let size = 32

    public var bytes: UInt64
    public var packets: UInt64
    /// Seconds since the epoch (kernel clock) at installation and first use.
    public var addTime: UInt64
    public var useTime: UInt64

    public init(bytes: UInt64 = 0, packets: UInt64 = 0, addTime: UInt64 = 0, useTime: UInt64 = 0) {
        self.bytes = bytes
        self.packets = packets
        self.addTime = addTime
        self.useTime = useTime
    }

    func encode(into w: inout NetlinkWriter) {
        for v in [bytes, packets, addTime, useTime] { w.write(v) }
    }

    static func decode(_ r: inout NetlinkReader) throws(NetlinkDecodeError) -> XfrmLifetimeCurrent {
        var l = try r.window(size, context: "xfrm_lifetime_cur")
        return XfrmLifetimeCurrent(bytes: try l.readUInt64(), packets: try l.readUInt64(),
                                   addTime: try l.readUInt64(), useTime: try l.readUInt64())
    }
}
