// RFC 8019 §4.2 (rate limiting per source): the token bucket behind every rate limit of the
// admission gate.

/// A token bucket that refills from the time it is given, never from a clock. The rate is
/// passed on each call so a table of thousands of buckets does not store it thousands of times.
struct IKETokenBucket: Hashable, Sendable {
    private(set) var tokens: Double
    private var updated: IKEInstant

    /// A full bucket: a source we have not seen starts with its burst.
    init(rate: IKERate, now: IKEInstant) {
        tokens = rate.burst
        updated = now
    }

    /// Takes one token if there is one.
    mutating func take(rate: IKERate, now: IKEInstant) -> Bool {
        // Time never runs backwards here: an earlier `now` refills nothing.
        tokens = min(rate.burst, tokens + now.seconds(since: updated) * rate.perSecond)
        if now > updated { updated = now }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
