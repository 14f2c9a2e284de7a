// RFC 4301 §4.4.2.1: SA lifetimes in bytes and packets, soft (start rekeying) and hard (delete).

/// Byte and packet limits of one SA direction. Time limits are the daemon's (it owns the clock);
/// counts are known only where packets pass, so they are checked here.
public struct ESPLifetime: Sendable, Hashable {
    public var softBytes: UInt64?
    public var hardBytes: UInt64?
    public var softPackets: UInt64?
    public var hardPackets: UInt64?

    public init(softBytes: UInt64? = nil, hardBytes: UInt64? = nil, softPackets: UInt64? = nil, hardPackets: UInt64? = nil) {
        self.softBytes = softBytes
        self.hardBytes = hardBytes
        self.softPackets = softPackets
        self.hardPackets = hardPackets
    }

    public static let unlimited = ESPLifetime()

    /// Where counts of `bytes` and `packets` stand against the limits. A limit is reached when the
    /// count is at or past it.
    public func state(bytes: UInt64, packets: UInt64) -> ESPLifetimeState {
        func reached(_ limit: UInt64?, _ count: UInt64) -> Bool { limit.map { count >= $0 } ?? false }
        if reached(hardBytes, bytes) || reached(hardPackets, packets) { return .hard }
        if reached(softBytes, bytes) || reached(softPackets, packets) { return .soft }
        return .live
    }
}

/// What the daemon should do about an SA: nothing, rekey it, or delete it.
public enum ESPLifetimeState: Int, Sendable, Hashable, Comparable {
    case live
    /// Soft limit reached: negotiate a replacement SA; this one still carries traffic.
    case soft
    /// Hard limit reached: this SA no longer sends or accepts packets; delete it.
    case hard

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
