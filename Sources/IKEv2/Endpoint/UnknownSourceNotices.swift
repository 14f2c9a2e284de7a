
/// Decides which IKE datagrams from addresses that are no configured peer deserve a notice in
/// the log. A misconfigured peer (wrong underlay address, a NAT nobody mentioned) shows up here,
/// so the operator must see it without raising the log level; a scan or a flood must not fill
/// the journal. At most one notice per source address per `interval`, at most `perInterval`
/// notices per `interval` in all, and a bounded table of sources; what is held back is counted
/// and reported with the next notice. Every drop is counted anyway, in `status` and in
/// `viaduct_ike_datagrams_dropped_total{reason="unknown-peer"}`. Pure: the time is passed in.
struct UnknownSourceNotices {
    let interval: Double
    let perInterval: Int
    let maxSources: Int

    private var lastNotice: [[UInt8]: IKEInstant] = [:]
    private var windowStart: IKEInstant?
    private var inWindow = 0
    /// Datagrams from unknown sources not logged since the last notice.
    private(set) var suppressed: UInt64 = 0

    init(interval: Double = 60, perInterval: Int = 10, maxSources: Int = 1024) {
        self.interval = interval
        self.perInterval = perInterval
        self.maxSources = maxSources
    }

    /// True when a notice for a datagram from `source` is due now; the caller logs it with
    /// `takeSuppressed()`. False: count it as suppressed.
    mutating func shouldLog(source: [UInt8], now: IKEInstant) -> Bool {
        if let start = windowStart, now.seconds(since: start) < interval {
            if inWindow >= perInterval { suppressed += 1; return false }
        } else {
            windowStart = now
            inWindow = 0
            // Forget sources whose quiet period is over, so the table stays bounded by the rate.
            lastNotice = lastNotice.filter { now.seconds(since: $0.value) < interval }
        }
        if let last = lastNotice[source], now.seconds(since: last) < interval { suppressed += 1; return false }
        if lastNotice[source] == nil && lastNotice.count >= maxSources { suppressed += 1; return false }
        lastNotice[source] = now
        inWindow += 1
        return true
    }

    /// The number held back since the last notice, reset to zero.
    mutating func takeSuppressed() -> UInt64 {
        defer { suppressed = 0 }
        return suppressed
    }
}
