// RFC 7296 §3 (network byte order): the bounds-checked cursor every decoder reads through.

/// A bounds-checked big-endian reader over a window `[position, end)` of a byte array.
/// It never reads past `end`: every read checks first and throws `IKEDecodeError` with `shortReadCode`
/// (`truncated` for the whole datagram, a malformed code for a window bounded by a declared length).
/// Offsets in errors are absolute indices into `bytes`.
public struct IKEByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int
    /// The error code for a read past `end`.
    public let shortReadCode: IKEDecodeError.Code
    /// Describes the window in errors ("message", "Notify payload" ...).
    public let context: String

    /// A reader over all of `bytes`; reading past the end is `truncated`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
        self.shortReadCode = .truncated
        self.context = "message"
    }

    private init(bytes: [UInt8], position: Int, end: Int, shortReadCode: IKEDecodeError.Code, context: String) {
        self.bytes = bytes
        self.position = position
        self.end = end
        self.shortReadCode = shortReadCode
        self.context = context
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position >= end }

    /// An error at the current position.
    public func error(_ code: IKEDecodeError.Code, _ context: String? = nil) -> IKEDecodeError {
        IKEDecodeError(code, offset: position, context: context ?? self.context)
    }

    /// Throws unless `count` bytes remain.
    public func require(_ count: Int, _ what: String? = nil) throws(IKEDecodeError) {
        guard count >= 0, count <= remaining else { throw error(shortReadCode, what) }
    }

    public mutating func readUInt8(_ what: String? = nil) throws(IKEDecodeError) -> UInt8 {
        try require(1, what)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readUInt16(_ what: String? = nil) throws(IKEDecodeError) -> UInt16 {
        try require(2, what)
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    public mutating func readUInt32(_ what: String? = nil) throws(IKEDecodeError) -> UInt32 {
        try require(4, what)
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[position + i]) }
        position += 4
        return value
    }

    public mutating func readUInt64(_ what: String? = nil) throws(IKEDecodeError) -> UInt64 {
        try require(8, what)
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[position + i]) }
        position += 8
        return value
    }

    public mutating func readBytes(_ count: Int, _ what: String? = nil) throws(IKEDecodeError) -> [UInt8] {
        try require(count, what)
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// Everything left in the window.
    public mutating func readRemaining() -> [UInt8] {
        guard position < end else { return [] }
        defer { position = end }
        return Array(bytes[position..<end])
    }

    public mutating func skip(_ count: Int, _ what: String? = nil) throws(IKEDecodeError) {
        try require(count, what)
        position += count
    }

    /// Consumes `count` bytes and returns a reader over exactly them. If fewer remain, throws `overrunCode`
    /// (the declared length is wrong). Reads past the new window's end throw `shortReadCode`.
    public mutating func subReader(
        count: Int, overrunCode: IKEDecodeError.Code, shortReadCode: IKEDecodeError.Code, context: String
    ) throws(IKEDecodeError) -> IKEByteReader {
        guard count >= 0, count <= remaining else { throw error(overrunCode, context) }
        let sub = IKEByteReader(
            bytes: bytes, position: position, end: position + count, shortReadCode: shortReadCode, context: context)
        position += count
        return sub
    }

    /// Throws `trailingBytes` unless the window is consumed.
    public func requireAtEnd(_ what: String? = nil) throws(IKEDecodeError) {
        guard isAtEnd else { throw error(.trailingBytes, what) }
    }
}
