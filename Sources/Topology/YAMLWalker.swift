import Foundation
import NetTypes

/// Reads a composed YAML tree field by field and records a located diagnostic for everything
/// that is not what the topology language expects. It never throws: a bad field yields nil and
/// a diagnostic, and the caller goes on so that every error in the file is reported at once.
final class YAMLWalker {
    struct Entry {
        var key: String
        var keyNode: YAMLNode
        var value: YAMLNode
    }

    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    /// Aliases can make a small file describe an exponentially large tree ("billion laughs");
    /// the walk stops after this many nodes.
    private var budget: Int
    private(set) var exhausted = false

    init(file: String, budget: Int = 100_000) {
        self.file = file
        self.budget = budget
    }

    func location(_ node: YAMLNode?) -> SourceLocation {
        guard let m = node?.mark else { return SourceLocation(file: file, line: 0, column: 0) }
        return SourceLocation(file: file, line: m.line, column: m.column)
    }

    func error(_ code: DiagnosticCode, _ node: YAMLNode?, _ message: String) {
        diagnostics.append(Diagnostic(.error, code, at: location(node), message))
    }

    func error(_ code: DiagnosticCode, at location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, code, at: location, message))
    }

    private func spend(_ node: YAMLNode) -> Bool {
        if exhausted { return false }
        budget -= 1
        if budget < 0 {
            exhausted = true
            error(.tooComplex, node, "the document expands to more than 100000 nodes (anchors and aliases?); a topology this size is not supported")
            return false
        }
        return true
    }

    /// A short description of what a node is, for "expected X, found Y".
    func describe(_ node: YAMLNode) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s, _):
            if isNull(node) { return "an empty value" }
            let text = s.string.count > 40 ? String(s.string.prefix(37)) + "..." : s.string
            return "'\(text)'"
        }
    }

    func isNull(_ node: YAMLNode) -> Bool {
        guard case .scalar(let s, _) = node else { return false }
        return s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// The entries of a mapping, in order. `what` names the field in messages ("gateway 'dc1'").
    func mapping(_ node: YAMLNode, _ what: String) -> [Entry]? {
        guard spend(node) else { return nil }
        guard case .mapping(let m, _) = node else {
            error(.wrongType, node, "\(what) must be a mapping of keys to values, found \(describe(node))")
            return nil
        }
        var out: [Entry] = []
        for pair in m {
            let k = pair.key, v = pair.value
            guard case .scalar(let ks, _) = k, !isNull(k) else {
                error(.wrongType, k, "keys in \(what) must be plain words, found \(describe(k))")
                continue
            }
            out.append(Entry(key: ks.string, keyNode: k, value: v))
        }
        return out
    }

    /// Reports keys that are not in `allowed`, with a suggestion for likely typos.
    func checkKeys(_ entries: [Entry], allowed: [String], in what: String) {
        for e in entries where !allowed.contains(e.key) {
            if let s = Suggest.closest(to: e.key, in: allowed) {
                error(.unknownKey, e.keyNode, "unknown key '\(e.key)' in \(what); did you mean '\(s)'?")
            } else {
                error(.unknownKey, e.keyNode, "unknown key '\(e.key)' in \(what); expected one of: \(allowed.joined(separator: ", "))")
            }
        }
    }

    /// True when some key is a likely typo of `key`: then "missing key" would only repeat the
    /// "unknown key ...; did you mean" error already reported for it.
    func hasNearMiss(_ entries: [Entry], _ key: String) -> Bool {
        entries.contains { $0.key != key && Suggest.closest(to: $0.key, in: [key]) != nil }
    }

    func string(_ node: YAMLNode, _ what: String) -> String? {
        guard spend(node) else { return nil }
        guard case .scalar(let s, _) = node, !isNull(node) else {
            error(isNull(node) ? .missingKey : .wrongType, node,
                  "\(what) must be a single value, found \(describe(node))")
            return nil
        }
        return s.string
    }

    func int(_ node: YAMLNode, _ what: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, what) else { return nil }
        guard let v = Int(text.replacingOccurrences(of: "_", with: "")) else {
            error(.wrongType, node, "\(what) must be a whole number between \(range.lowerBound) and \(range.upperBound), found '\(text)'")
            return nil
        }
        guard range.contains(v) else {
            error(.invalidValue, node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(v)")
            return nil
        }
        return v
    }

    func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        guard let text = string(node, what) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            error(.wrongType, node, "\(what) must be true or false, found '\(text)'")
            return nil
        }
    }

    func duration(_ node: YAMLNode, _ what: String) -> TimeSpan? {
        guard let text = string(node, what) else { return nil }
        guard let d = TimeSpan.parse(text) else {
            let hint = Int(text) != nil ? "; add a unit, e.g. '\(text)s' or '\(text)m'" : ""
            error(.invalidValue, node, "\(what) must be a duration such as 30s, 10m, 8h or 1h30m, found '\(text)'\(hint)")
            return nil
        }
        return d
    }

    func choice<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ what: String, _ type: E.Type) -> E? where E.RawValue == String {
        guard let text = string(node, what) else { return nil }
        if let v = E(rawValue: text) { return v }
        let all = E.allCases.map(\.rawValue)
        let hint = Suggest.closest(to: text, in: all).map { "; did you mean '\($0)'?" } ?? ""
        error(.invalidValue, node, "\(what) must be one of \(all.joined(separator: ", ")), found '\(text)'\(hint)")
        return nil
    }

    /// The items of a list; a single value is accepted as a one-item list where `single` allows.
    func list(_ node: YAMLNode, _ what: String, single: Bool = false) -> [YAMLNode]? {
        guard spend(node) else { return nil }
        switch node {
        case .sequence(let s, _): return s
        case .scalar where single && !isNull(node): return [node]
        default:
            error(isNull(node) ? .missingKey : .wrongType, node, "\(what) must be a list, found \(describe(node))")
            return nil
        }
    }

    /// A gateway `address:` that is not an IP address: `dynamic` or a DNS name. Peeks at the
    /// scalar without spending it, so `address(_:_:)` reports anything else.
    func underlayWord(_ node: YAMLNode) -> UnderlayKind? {
        guard case .scalar(let scalar, _) = node, !isNull(node), IPAddress(scalar.string) == nil else { return nil }
        let text = scalar.string
        if text == "dynamic" { return .dynamic }
        if UnderlayKind.isDNSName(text) { return .name(text.lowercased()) }
        return nil
    }

    func address(_ node: YAMLNode, _ what: String) -> IPAddress? {
        guard let text = string(node, what) else { return nil }
        guard let a = IPAddress(text) else {
            if case .success = IPPrefix.parse(text) {
                error(.invalidAddress, node, "\(what) must be an address without a prefix length, found '\(text)'")
            } else if what.hasSuffix(".address") {
                error(.invalidAddress, node, "\(what) must be an IPv4 or IPv6 address, 'dynamic', or a DNS name (gw.example.net), found '\(text)'")
            } else {
                error(.invalidAddress, node, "\(what) must be an IPv4 or IPv6 address, found '\(text)'")
            }
            return nil
        }
        return a
    }

    func prefix(_ node: YAMLNode, _ what: String) -> IPPrefix? {
        guard let text = string(node, what) else { return nil }
        switch IPPrefix.parse(text) {
        case .success(let p): return p
        case .failure(.syntax):
            let hint = IPAddress(text).map { " (an address; add a prefix length, e.g. \($0)/\($0.family == .ipv4 ? 32 : 128))" } ?? ""
            error(.invalidPrefix, node, "\(what) must be a prefix in CIDR notation such as 198.18.1.0/24 or 2001:db8::/48, found '\(text)'\(hint)")
        case .failure(.length(let max)):
            error(.invalidPrefix, node, "\(what): the prefix length in '\(text)' must be at most \(max)")
        case .failure(.hostBits(let s)):
            error(.invalidPrefix, node, "\(what): '\(text)' has host bits set; did you mean \(s)?")
        }
        return nil
    }
}
