/// A position in a topology file. Lines and columns start at 1 (columns count Unicode scalars,
/// as libyaml does). A location with line 0 stands for the file as a whole.
public struct SourceLocation: Hashable, Sendable, Comparable, Codable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One finding about a topology: what is wrong, where, and a stable `code` that tests and
/// tools compare (the message may be reworded; the code may not).
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible, Codable {
    public enum Severity: String, Hashable, Sendable, Codable {
        case error
        case warning
        case note
    }

    public var severity: Severity
    public var code: DiagnosticCode
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, _ code: DiagnosticCode, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.code = code
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: message`, the form compilers use, so editors can jump to it.
    public var description: String {
        if location.line == 0 {
            return "\(location.file): \(severity.rawValue): \(message)"
        }
        return "\(location.file):\(location.line):\(location.column): \(severity.rawValue): \(message)"
    }
}

/// Stable identifiers of every diagnostic Viaduct emits about a topology.
public struct DiagnosticCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let unreadable = DiagnosticCode(rawValue: "unreadable")
    public static let yamlSyntax = DiagnosticCode(rawValue: "yaml-syntax")
    public static let tooComplex = DiagnosticCode(rawValue: "too-complex")
    public static let unknownKey = DiagnosticCode(rawValue: "unknown-key")
    public static let missingKey = DiagnosticCode(rawValue: "missing-key")
    public static let duplicateKey = DiagnosticCode(rawValue: "duplicate-key")
    public static let wrongType = DiagnosticCode(rawValue: "wrong-type")
    public static let invalidValue = DiagnosticCode(rawValue: "invalid-value")
    public static let invalidAddress = DiagnosticCode(rawValue: "invalid-address")
    public static let invalidPrefix = DiagnosticCode(rawValue: "invalid-prefix")
    public static let invalidName = DiagnosticCode(rawValue: "invalid-name")
    public static let unsupportedVersion = DiagnosticCode(rawValue: "unsupported-version")
    public static let invalidProposal = DiagnosticCode(rawValue: "invalid-proposal")
    public static let weakProposal = DiagnosticCode(rawValue: "weak-proposal")
    /// No ESP proposal of a tunnel can be carried by an end's data plane.
    public static let unsupportedProposal = DiagnosticCode(rawValue: "unsupported-proposal")
    public static let unknownGateway = DiagnosticCode(rawValue: "unknown-gateway")
    public static let duplicateGateway = DiagnosticCode(rawValue: "duplicate-gateway")
    public static let selfTunnel = DiagnosticCode(rawValue: "self-tunnel")
    public static let duplicateTunnel = DiagnosticCode(rawValue: "duplicate-tunnel")
    public static let unmanagedPair = DiagnosticCode(rawValue: "unmanaged-pair")
    /// A tunnel between two `address: dynamic` gateways: neither can be reached.
    public static let dynamicPair = DiagnosticCode(rawValue: "dynamic-pair")
    /// `initiator:` names the end that would have to reach an `address: dynamic` peer.
    public static let dynamicInitiator = DiagnosticCode(rawValue: "dynamic-initiator")
    public static let pskBetweenManaged = DiagnosticCode(rawValue: "psk-between-managed")
    public static let insideOverlap = DiagnosticCode(rawValue: "inside-overlap")
    public static let insideTooSmall = DiagnosticCode(rawValue: "inside-too-small")
    public static let insideCollision = DiagnosticCode(rawValue: "inside-collision")
    public static let addressFamily = DiagnosticCode(rawValue: "address-family")
    public static let interfaceClash = DiagnosticCode(rawValue: "interface-clash")
    public static let ifIDClash = DiagnosticCode(rawValue: "if-id-clash")
    public static let routeConflict = DiagnosticCode(rawValue: "route-conflict")
    public static let missingFile = DiagnosticCode(rawValue: "missing-file")
    public static let missingASN = DiagnosticCode(rawValue: "missing-asn")
    public static let unknownNode = DiagnosticCode(rawValue: "unknown-node")
    public static let unmanagedNode = DiagnosticCode(rawValue: "unmanaged-node")
}

/// Diagnostics as a thrown or `Result` error: the reasons an operation on a topology refused.
public struct DiagnosticError: Error, Hashable, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
