import Glibc
import Logging

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
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - timestamps: prefix a UTC wall-clock time (for logs outside journald).
    ///   - sink: where finished lines go; stderr unless a test captures them.
    public init(label: String, level: Logger.Level = .info, timestamps: Bool = false,
                sink: @escaping @Sendable (String) -> Void = KeyValueLogHandler.writeToStandardError) {
        self.label = label
        self.logLevel = level
        self.timestamps = timestamps
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
        var line = ""
        if timestamps { line += Self.timestamp() + " " }
        line += "\(event.level.rawValue) \(event.message)"
        for key in all.keys.sorted() {
            line += " \(key)=\(Self.quote("\(all[key].map { "\($0)" } ?? "")"))"
        }
        line += "\n"
        sink(line)
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
