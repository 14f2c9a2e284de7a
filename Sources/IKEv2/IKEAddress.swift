// RFC 7296 §3.5 (ID_IPV4_ADDR, ID_IPV6_ADDR) and §3.13.1 (TS address ranges): IP address values.

/// An IPv4 address as carried in ID and TS payloads (network byte order on the wire).
public struct IKEIPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    /// Exactly 4 octets, else nil.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var bytes: [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) } }
    public var description: String { bytes.map(String.init).joined(separator: ".") }
    public static func < (l: Self, r: Self) -> Bool { l.value < r.value }
}

/// An IPv6 address as carried in ID and TS payloads.
public struct IKEIPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
    /// Exactly 16 octets, else nil.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }
    /// Uncompressed colon-hex form (eight groups).
    public var description: String {
        let b = bytes
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
    public static func < (l: Self, r: Self) -> Bool { (l.high, l.low) < (r.high, r.low) }
}
