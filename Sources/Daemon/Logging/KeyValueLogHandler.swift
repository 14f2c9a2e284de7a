import Glibc
import Logging
import System

/// One line per event, `level message key=value ...`, written to stderr in one write(2) so
/// lines from different threads never interleave. No timestamp: journald (and `ip netns exec
/// ... 2>log` in the interop harness, which adds none) records its own. Values containing a
/// space or quote are quoted, so `grep 'peer=dc2'` and journalctl's field-ish search work.
public struct KeyValueLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let timestamps: Bool
    private let journalPriorities: Bool
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - timestamps: prefix a UTC wall-clock time (for logs outside journald).
    ///   - journalPriorities: prefix each line with its syslog priority, `<3>` ... `<7>`
    ///     (sd-daemon(3)), which journald strips and stores as the entry's priority, so that
    ///     `journalctl -p warning` filters. `stderrIsJournal()` tells when to.
    ///   - sink: where finished lines go; stderr unless a test captures them.
    public init(label: String, level: Logger.Level = .info, timestamps: Bool = false, journalPriorities: Bool = false,
                sink: @escaping @Sendable (String) -> Void = KeyValueLogHandler.writeToStandardError) {
        self.label = label
        self.logLevel = level
        self.timestamps = timestamps
        self.journalPriorities = journalPriorities
        self.sink = sink
    }

    /// One write(2) per line, so concurrent writers never interleave within a line.
    public static func writeToStandardError(_ line: String) {
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { raw in Glibc.write(2, raw.baseAddress, raw.count) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let p = metadataProvider?.get() { all.merge(p) { _, new in new } }
        if let m = event.metadata { all.merge(m) { _, new in new } }
        var line = journalPriorities ? "<\(Self.syslogPriority(event.level))>" : ""
        if timestamps { line += Self.timestamp() + " " }
        line += "\(event.level.rawValue) \(event.message)"
        for key in all.keys.sorted() {
            line += " \(key)=\(Self.quote("\(all[key].map { "\($0)" } ?? "")"))"
        }
        line += "\n"
        sink(line)
    }

    /// syslog(3) priorities as sd-daemon(3) prefixes them: error 3, warning 4, notice 5, info 6,
    /// debug 7. swift-log's trace is below debug and `critical` is syslog's `crit` (2).
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Whether stderr is connected to journald: systemd sets `JOURNAL_STREAM=DEVICE:INODE` for a
    /// service whose output goes to the journal, and the check that stderr is still that stream
    /// (not redirected by a wrapper) is the one systemd.exec(5) recommends.
    public static func stderrIsJournal(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"], let stream = parseJournalStream(value),
              let stderr = Syscall.deviceAndInode(2) else { return false }
        return stream == stderr
    }

    /// `DEVICE:INODE`, both decimal, as systemd writes `JOURNAL_STREAM`; nil for anything else.
    static func parseJournalStream(_ value: String) -> (device: UInt64, inode: UInt64)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }

    static func quote(_ v: String) -> String {
        guard v.isEmpty || v.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return v }
        var escaped = ""
        for ch in v {
            switch ch {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(ch)
            }
        }
        return "\"\(escaped)\""
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var secs = ts.tv_sec
        gmtime_r(&secs, &tm)
        let ms = ts.tv_nsec / 1_000_000
        func pad(_ v: Int32, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(tm.tm_year + 1900)-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }
}
