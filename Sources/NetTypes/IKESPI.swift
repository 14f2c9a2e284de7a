// RFC 7296 §3.1: the 8-octet IKE SA Security Parameter Indexes.

/// An IKE SA SPI (Initiator's or Responder's). Zero means "not yet chosen" (responder SPI in an
/// IKE_SA_INIT request, RFC 7296 §3.1).
public struct IKESPI: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    /// SPIs are numbers in the RFCs and in fixtures (see `ESPSPI`).
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    public static func < (a: IKESPI, b: IKESPI) -> Bool { a.rawValue < b.rawValue }

    public static let zero = IKESPI(0)

    public var isZero: Bool { rawValue == 0 }

    /// The 8 octets in network byte order.
    public var bytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: rawValue >> UInt64(56 - 8 * $0)) } }

    /// Builds an SPI from exactly 8 octets (e.g. a Notify or Delete SPI field); nil otherwise.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 8 else { return nil }
        rawValue = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
