/// The top-level `bgp:` section (BGPSettings).
extension TopologyParser {
    static let bgpKeys = ["bfd", "password-file"]
    static let bfdKeys = ["interval", "multiplier"]

    static func bgpSettings(_ node: YAMLNode, w: YAMLWalker) -> BGPSettings {
        var s = BGPSettings(location: w.location(node))
        guard let entries = w.mapping(node, "bgp") else { return s }
        w.checkKeys(entries, allowed: bgpKeys, in: "bgp")
        if let e = entries.first(where: { $0.key == "bfd" }) {
            s.bfd = bfd(e.value, w: w)
        }
        if let e = entries.first(where: { $0.key == "password-file" }), let path = w.string(e.value, "bgp.password-file") {
            s.passwordFile = path
        }
        return s
    }

    /// `bfd: off`, `bfd: on` (the defaults), or `bfd: { interval: 300ms, multiplier: 3 }`
    /// (either key may be left out).
    static func bfd(_ node: YAMLNode, w: YAMLWalker) -> BFDTimers? {
        if case .scalar(let scalar, _) = node, ["off", "false"].contains(scalar.string) { return nil }
        if case .scalar(let scalar, _) = node, ["on", "true"].contains(scalar.string) { return BFDTimers() }
        var timers = BFDTimers()
        guard let entries = w.mapping(node, "bgp.bfd") else { return timers }
        w.checkKeys(entries, allowed: bfdKeys, in: "bgp.bfd")
        if let e = entries.first(where: { $0.key == "interval" }), let ms = milliseconds(e.value, "bgp.bfd.interval", w: w) {
            timers.intervalMilliseconds = ms
        }
        if let e = entries.first(where: { $0.key == "multiplier" }),
           let m = w.int(e.value, "bgp.bfd.multiplier", range: BFDTimers.multiplierRange) {
            timers.multiplier = m
        }
        return timers
    }

    /// `300ms` or `1s`, within BFDTimers.intervalRange.
    static func milliseconds(_ node: YAMLNode, _ what: String, w: YAMLWalker) -> Int? {
        guard let text = w.string(node, what) else { return nil }
        let range = BFDTimers.intervalRange
        var value: Int?
        if text.hasSuffix("ms") { value = Int(text.dropLast(2)) } else if text.hasSuffix("s") { value = Int(text.dropLast()).map { $0 * 1000 } }
        guard let ms = value else {
            w.error(.invalidValue, node, "\(what) must be a time in milliseconds or seconds such as 300ms or 1s, found '\(text)'")
            return nil
        }
        guard range.contains(ms) else {
            w.error(.invalidValue, node, "\(what) must be between \(range.lowerBound)ms and \(range.upperBound / 1000)s, found \(text)")
            return nil
        }
        return ms
    }
}
