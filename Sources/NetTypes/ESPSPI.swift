// RFC 4303 §2.1: Security Parameters Index.

/// The 32-bit SPI that names an SA on the wire. Its own type so that an SPI cannot be passed
/// where a sequence number or a length is expected.
///
/// 0 is reserved for local use and never appears in an ESP packet; that is also what lets
/// ESP-in-UDP tell ESP from IKE (RFC 3948 §2.2). 1–255 are reserved by IANA.
public struct ESPSPI: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    /// SPIs are numbers in the RFCs and in fixtures: `0x1000` reads as an SPI where one is
    /// expected, while a `UInt32` variable still cannot be passed as one.
    public init(integerLiteral value: UInt32) { self.rawValue = value }

    public static func < (a: ESPSPI, b: ESPSPI) -> Bool { a.rawValue < b.rawValue }

    /// Hex, as `ip xfrm state` and strongSwan print it.
    public var description: String {
        let digits = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
