import Topology

/// A benchmark that could not measure what it set out to (a round trip that did not give the
/// packet back, a generated topology that did not load): a bug, never a slow machine.
public struct BenchmarkError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// A topology a benchmark generated did not load or plan: its diagnostics (a bug in the
/// generator).
public struct BenchmarkTopologyError: Error, Sendable {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
}
