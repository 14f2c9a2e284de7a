/// What the admission gate did, for status and metrics. Every request the gate sees ends in
/// exactly one of `admitted`, `cookiesSent`, or one `dropped` reason.
public struct IKEAdmissionCounters: Hashable, Sendable {
    public var admitted: UInt64 = 0
    /// COOKIE answers sent (§2.6).
    public var cookiesSent: UInt64 = 0
    /// Requests whose cookie was ours and current (they count under `admitted` or a drop).
    public var cookiesAccepted: UInt64 = 0
    /// Requests whose cookie was wrong or stale (answered with a fresh cookie when one is due).
    public var cookiesRejected: UInt64 = 0
    public var dropped: [IKEAdmissionDropReason: UInt64] = [:]
    /// Half-open IKE SAs now, and the most there were at once.
    public var halfOpen: Int = 0
    public var halfOpenPeak: Int = 0
    /// Sources forgotten to make room in the bounded source table.
    public var sourceEvictions: UInt64 = 0
    /// Sources the table remembers now.
    public var sources: Int = 0

    public init() {}

    public var droppedTotal: UInt64 { dropped.values.reduce(0, +) }
}
