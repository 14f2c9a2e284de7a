import NetTypes

// netlink(7): the bounds-checked cursor every decoder reads through. It never reads past `end`; a read past
// the end throws with `shortCode` (`truncated` for a whole receive buffer, `shortValue` inside a fixed
// structure whose length an enclosing header already fixed). Offsets in errors are absolute.

/// A reader over a window `[position, end)` of a byte array, in host byte order unless told otherwise.
public struct NetlinkReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int
    public let shortCode: NetlinkDecodeError.Code
    public let context: String

    public init(_ bytes: [UInt8], context: String = "message") {
        self.init(bytes, from: 0, to: bytes.count, shortCode: .truncated, context: context)
    }

    public init(_ bytes: [UInt8], from start: Int, to end: Int, shortCode: NetlinkDecodeError.Code, context: String) {
        self.bytes = bytes
        self.position = max(0, min(start, bytes.count))
        self.end = max(self.position, min(end, bytes.count))
        self.shortCode = shortCode
        self.context = context
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position >= end }

    public func error(_ code: NetlinkDecodeError.Code, _ what: String? = nil) -> NetlinkDecodeError {
        NetlinkDecodeError(code, offset: position, context: what ?? context)
    }

    public func require(_ count: Int, _ what: String? = nil) throws(NetlinkDecodeError) {
        guard count >= 0, count <= remaining else { throw error(shortCode, what) }
    }

    /// A sub-reader over the next `count` bytes (which are consumed), with its own short-read code.
    public mutating func window(_ count: Int, shortCode: NetlinkDecodeError.Code = .shortValue,
                                context: String) throws(NetlinkDecodeError) -> NetlinkReader {
        try require(count, context)
        defer { position += count }
        return NetlinkReader(bytes, from: position, to: position + count, shortCode: shortCode, context: context)
    }

    public mutating func skip(_ count: Int) throws(NetlinkDecodeError) {
        try require(count)
        position += count
    }

    /// Skips padding up to the next 4-byte boundary relative to `base`, without failing at the end.
    public mutating func alignSkip(base: Int = 0) {
        let pad = (4 - (position - base) % 4) % 4
        position = min(end, position + pad)
    }

    public mutating func readUInt8(_ what: String? = nil) throws(NetlinkDecodeError) -> UInt8 {
        try require(1, what)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readUInt16(_ what: String? = nil) throws(NetlinkDecodeError) -> UInt16 {
        try require(2, what)
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8 // host order: little-endian hosts
    }

    public mutating func readUInt32(_ what: String? = nil) throws(NetlinkDecodeError) -> UInt32 {
        try require(4, what)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << UInt32(8 * i) }
        position += 4
        return v
    }

    public mutating func readInt32(_ what: String? = nil) throws(NetlinkDecodeError) -> Int32 {
        Int32(bitPattern: try readUInt32(what))
    }

    public mutating func readUInt64(_ what: String? = nil) throws(NetlinkDecodeError) -> UInt64 {
        try require(8, what)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += 8
        return v
    }

    public mutating func readBigEndianUInt16(_ what: String? = nil) throws(NetlinkDecodeError) -> UInt16 {
        try require(2, what)
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    public mutating func readBigEndianUInt32(_ what: String? = nil) throws(NetlinkDecodeError) -> UInt32 {
        try require(4, what)
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[position + i]) }
        position += 4
        return v
    }

    public mutating func readBytes(_ count: Int, _ what: String? = nil) throws(NetlinkDecodeError) -> [UInt8] {
        try require(count, what)
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// The rest of the window.
    public mutating func readRest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// A fixed-size, NUL-padded C string field (`char alg_name[64]`).
    public mutating func readFixedString(_ count: Int, _ what: String? = nil) throws(NetlinkDecodeError) -> String {
        let raw = try readBytes(count, what)
        return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An `xfrm_address_t` (16 bytes) interpreted for `family` (AF_INET 2, AF_INET6 10); nil for family 0.
    public mutating func readXfrmAddress(family: UInt16, _ what: String? = nil) throws(NetlinkDecodeError) -> IPAddress? {
        let start = position
        let raw = try readBytes(16, what)
        switch family {
        case AddressFamily.inet: return IPAddress(networkBytes: Array(raw[0..<4]))
        case AddressFamily.inet6: return IPAddress(networkBytes: raw)
        case 0: return nil
        default: throw NetlinkDecodeError(.unsupportedValue, offset: start, context: "\(what ?? context): address family \(family)")
        }
    }
}

/// Address family numbers (linux/socket.h).
public enum AddressFamily {
    public static let unspecified: UInt16 = 0
    public static let inet: UInt16 = 2
    public static let inet6: UInt16 = 10

    public static func of(_ address: IPAddress) -> UInt16 { address.family == .ipv4 ? inet : inet6 }
}

extension IPAddress {
    /// An address from its 4 or 16 network-order bytes; nil for any other length.
    public init?(networkBytes raw: [UInt8]) {
        switch raw.count {
        case 4:
            self = .v4(raw.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            let hi = raw[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = raw[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(hi, lo)
        default:
            return nil
        }
    }
}
