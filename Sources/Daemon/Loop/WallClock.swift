import Glibc

/// The wall clock, read only for certificate validity (notBefore/notAfter, CRL dates), never
/// for protocol timing. Injected so certificate tests can pick the date.
public protocol WallClock: Sendable {
    /// Seconds since the Unix epoch.
    func epochSeconds() -> Int64
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func epochSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
