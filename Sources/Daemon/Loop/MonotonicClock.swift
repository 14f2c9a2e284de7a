import IKEv2

/// Where the daemon reads monotonic time. The engine never does: the daemon passes `now`.
public protocol MonotonicClock {
    func now() -> IKEInstant
}

/// `ContinuousClock` (CLOCK_BOOTTIME: keeps counting through suspend, so deadlines stay
/// honest on a laptop gateway) mapped onto `IKEInstant`, with the origin at creation.
public struct SystemMonotonicClock: MonotonicClock, Sendable {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> IKEInstant {
        let d = ContinuousClock.now - origin
        let (seconds, attoseconds) = d.components
        let ns = max(0, seconds) &* 1_000_000_000 &+ max(0, attoseconds / 1_000_000_000)
        return IKEInstant(nanoseconds: UInt64(ns))
    }

    /// Milliseconds until `deadline` for poll(2), rounded up so the loop never wakes just
    /// before a deadline and spins; -1 (wait forever) when there is none.
    public static func pollTimeout(until deadline: IKEInstant?, now: IKEInstant, cap: Int32 = 60_000) -> Int32 {
        guard let deadline else { return -1 }
        guard deadline > now else { return 0 }
        let ns = deadline.nanoseconds - now.nanoseconds
        let ms = (ns + 999_999) / 1_000_000
        return Int32(min(UInt64(cap), ms))
    }
}
