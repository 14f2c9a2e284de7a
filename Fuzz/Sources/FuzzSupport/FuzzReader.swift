/// Takes structure out of a fuzz input front to back; past the end every read returns zeros or
/// nothing, so any input is usable.
public struct FuzzReader {
    public let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func u8() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }

    public mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }

    /// Up to `count` bytes (fewer at the end).
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, count))
        defer { position = end }
        return Array(bytes[min(position, end)..<end])
    }

    public mutating func rest() -> [UInt8] { take(bytes.count - position) }

    /// A record the seed writers produce: a 16-bit big-endian length, then that many bytes.
    public mutating func record() -> [UInt8] { take(Int(u16())) }
}

/// Builds inputs in FuzzReader's layout (seed writers).
public struct FuzzWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    public mutating func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xFFFF)) }
    public mutating func raw(_ v: [UInt8]) { bytes += v }
    public mutating func record(_ v: [UInt8]) { u16(UInt16(min(v.count, 0xFFFF))); bytes += v.prefix(0xFFFF) }
}
