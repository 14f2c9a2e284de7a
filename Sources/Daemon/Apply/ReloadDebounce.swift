import IKEv2

/// When to act on a burst of file changes: files are often written in several steps (a new
/// certificate, then its key; a temporary file, then a rename; a chmod after), and reading
/// them halfway would refuse a reload that a second later would be fine. The reload waits
/// until the files have been quiet for `quietSeconds`, but no longer than `maxDelaySeconds`
/// after the first change of the burst, so a file rewritten every second cannot put it off
/// for ever. Pure: the time is passed in.
public struct ReloadDebounce: Sendable {
    public let quietSeconds: Double
    public let maxDelaySeconds: Double
    private var firstChange: IKEInstant?
    private var lastChange: IKEInstant?

    public init(quietSeconds: Double = 2, maxDelaySeconds: Double = 10) {
        self.quietSeconds = quietSeconds
        self.maxDelaySeconds = max(quietSeconds, maxDelaySeconds)
    }

    /// A file changed at `now`.
    public mutating func noteChange(at now: IKEInstant) {
        if firstChange == nil { firstChange = now }
        lastChange = now
    }

    /// When the reload is due; nil when nothing changed since the last one.
    public var deadline: IKEInstant? {
        guard let first = firstChange, let last = lastChange else { return nil }
        return min(last.adding(seconds: quietSeconds), first.adding(seconds: maxDelaySeconds))
    }

    /// True (once per burst) when the reload is due at `now`.
    public mutating func fire(at now: IKEInstant) -> Bool {
        guard let d = deadline, d <= now else { return false }
        firstChange = nil
        lastChange = nil
        return true
    }
}
