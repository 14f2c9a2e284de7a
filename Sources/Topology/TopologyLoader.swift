import Foundation

/// The result of reading a topology: the model when it parsed, the tunnel links when it also
/// validated, and every diagnostic in file order.
public struct LoadedTopology: Sendable {
    public var topology: Topology?
    public var links: [TunnelLink]
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    /// True when nothing is wrong: the topology may be acted on.
    public var isValid: Bool { topology != nil && errors.isEmpty }
}

/// Entry point: text or a file's bytes in, `LoadedTopology` out (`TopologyFiles` reads the file).
/// Nothing touches the machine until a
/// topology has loaded with no errors.
public enum TopologyLoader {
    /// Larger files are refused before parsing; a topology of thousands of gateways is far smaller.
    public static let maxFileSize = 8 << 20

    public static func load(yaml: String, file: String) -> LoadedTopology {
        let (topology, parseDiags) = TopologyParser.parse(yaml: yaml, file: file)
        guard let topology else {
            return LoadedTopology(topology: nil, links: [], diagnostics: sorted(parseDiags))
        }
        // Validate even after field errors so one run reports everything; references to
        // gateways that failed to parse are not reported again as "unknown".
        let declared = Set(declaredGatewayNames(yaml: yaml))
        let (links, validationDiags) = TopologyValidator.validate(topology)
        let filtered = validationDiags.filter { d in
            !(d.code == .unknownGateway && declared.contains(where: { d.message.hasPrefix("'\($0)' ") }))
        }
        return LoadedTopology(topology: topology, links: links,
                              diagnostics: sorted(parseDiags + filtered))
    }

    /// A topology file's bytes, read by the caller (`TopologyFiles` reads them; this target reads
    /// no files): refused when larger than `maxFileSize` or not UTF-8, else parsed and validated.
    public static func load(contents data: Data, file: String) -> LoadedTopology {
        guard data.count <= maxFileSize else { return unreadable(file: file, "the file is \(data.count) bytes; topologies larger than \(maxFileSize) bytes are refused") }
        guard let text = String(data: data, encoding: .utf8) else {
            // libyaml's reader finds the first bad byte, so the error points at it.
            if case .failure(.reader(let problem, _, _, let m)) = YAMLFrontEnd.compose(bytes: [UInt8](data)) {
                let at = SourceLocation(file: file, line: m.line, column: m.column)
                return LoadedTopology(topology: nil, links: [], diagnostics: [
                    Diagnostic(.error, .unreadable, at: at, "the file is not UTF-8 text: \(problem)"),
                ])
            }
            return unreadable(file: file, "the file is not UTF-8 text")
        }
        return load(yaml: text, file: file)
    }

    /// The answer for a file that could not be read at all: one `unreadable` error on the whole file.
    public static func unreadable(file: String, _ message: String) -> LoadedTopology {
        let whole = SourceLocation(file: file, line: 0, column: 0)
        return LoadedTopology(topology: nil, links: [], diagnostics: [Diagnostic(.error, .unreadable, at: whole, message)])
    }

    static func sorted(_ d: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return d.filter { seen.insert($0).inserted }.sorted { ($0.location, $0.message) < ($1.location, $1.message) }
    }

    /// The keys under `gateways:`, even those whose bodies are broken.
    static func declaredGatewayNames(yaml: String) -> [String] {
        guard case .success(.mapping(let top, _)?) = YAMLFrontEnd.compose(yaml),
              case .mapping(let gws, _)? = top.first(where: { isScalar($0.key, "gateways") })?.value else { return [] }
        return gws.compactMap { p in
            if case .scalar(let s, _) = p.key { return s.string }
            return nil
        }
    }

    private static func isScalar(_ node: YAMLNode, _ text: String) -> Bool {
        if case .scalar(let s, _) = node { return s.string == text }
        return false
    }
}
