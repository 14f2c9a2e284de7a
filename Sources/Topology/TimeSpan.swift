/// A length of time written the way operators write it: `8h`, `90m`, `1h30m`, `10s`, `1d`.
/// A bare number is refused: `dpd: 10` could mean seconds or minutes, and guessing is how
/// tunnels end up rekeying every ten seconds.
public struct TimeSpan: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public static func parse(_ text: String) -> TimeSpan? {
        guard !text.isEmpty, text.count <= 32 else { return nil }
        var total = 0
        var number = ""
        var sawUnit = false
        for ch in text {
            if ch.isASCII && ch.isNumber {
                number.append(ch)
                continue
            }
            let unit: Int
            switch ch {
            case "d": unit = 86_400
            case "h": unit = 3_600
            case "m": unit = 60
            case "s": unit = 1
            default: return nil
            }
            guard let n = Int(number), n <= 10_000_000 else { return nil }
            total += n * unit
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return TimeSpan(seconds: total)
    }

    /// The shortest form that parses back to the same value (`3600` seconds prints as `1h`).
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, suffix) in [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            out += "\(rest / unit)\(suffix)"
            rest %= unit
        }
        return out
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.seconds < b.seconds }

    public init(from decoder: Decoder) throws {
        seconds = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(seconds)
    }
}
