/// A benchmark that could not measure what it set out to (a round trip that did not give the
/// packet back, a generated topology that did not load): a bug, never a slow machine.
public struct BenchmarkError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
