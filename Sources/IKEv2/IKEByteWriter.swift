// RFC 7296 §3 (network byte order): the growable buffer every encoder writes to.

/// A big-endian byte writer. Values that do not fit their wire field are clamped and recorded in
/// `problem` (the first one wins); `IKEMessage.encode` turns a problem into `IKEEncodeError`, so
/// payload encoders stay non-throwing yet can never emit a silently wrong length.
public struct IKEByteWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// The first value that did not fit, or nil.
    public private(set) var problem: String?

    public init(reservingCapacity capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        problem = nil
    }

    public var count: Int { bytes.count }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func write(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    public mutating func writeZeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: max(0, count))) }

    /// Writes a one-octet count or size; records a problem if `value` is outside 0...255.
    public mutating func writeField8(_ value: Int, _ field: String) {
        if value < 0 || value > 0xFF { note("\(field) \(value) does not fit in one octet") }
        write(UInt8(truncatingIfNeeded: value))
    }

    /// Writes a two-octet count or length; records a problem if `value` is outside 0...65535.
    public mutating func writeField16(_ value: Int, _ field: String) {
        if value < 0 || value > 0xFFFF { note("\(field) \(value) does not fit in two octets") }
        write(UInt16(truncatingIfNeeded: value))
    }

    /// Overwrites two octets at `index` (written earlier as a placeholder) with `value`.
    public mutating func patchField16(_ value: Int, at index: Int, _ field: String) {
        guard index >= 0, index + 2 <= bytes.count else { note("\(field): bad patch index"); return }
        if value < 0 || value > 0xFFFF { note("\(field) \(value) does not fit in two octets") }
        let v = UInt16(truncatingIfNeeded: value)
        bytes[index] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[index + 1] = UInt8(truncatingIfNeeded: v)
    }

    /// Overwrites four octets at `index` with `value`.
    public mutating func patchField32(_ value: Int, at index: Int, _ field: String) {
        guard index >= 0, index + 4 <= bytes.count else { note("\(field): bad patch index"); return }
        if value < 0 || value > 0xFFFF_FFFF { note("\(field) \(value) does not fit in four octets") }
        let v = UInt32(truncatingIfNeeded: value)
        for i in 0..<4 { bytes[index + i] = UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * i)) }
    }

    /// Overwrites one octet at `index`.
    public mutating func patch(_ value: UInt8, at index: Int) {
        guard index >= 0, index < bytes.count else { note("bad patch index"); return }
        bytes[index] = value
    }

    /// Records that something could not be encoded faithfully (first problem wins).
    public mutating func note(_ message: String) {
        if problem == nil { problem = message }
    }
}
