/// An error from a cryptographic operation or from certificate handling: a stable `code` that
/// tests and logs compare, plus human context. Never carries key material.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidPublicValue = Code(rawValue: "invalid-public-value")
        public static let invalidKeyLength = Code(rawValue: "invalid-key-length")
        public static let authenticationFailed = Code(rawValue: "authentication-failed")
        public static let truncated = Code(rawValue: "truncated")
        public static let unsupportedAlgorithm = Code(rawValue: "unsupported-algorithm")
        public static let bufferTooSmall = Code(rawValue: "buffer-too-small")
        public static let malformed = Code(rawValue: "malformed")
        public static let library = Code(rawValue: "library")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
