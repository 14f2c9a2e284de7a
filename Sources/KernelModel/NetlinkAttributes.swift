import NetTypes

// netlink(7) §"Attributes" / linux/netlink.h struct nlattr { __u16 nla_len; __u16 nla_type; }: a TLV list
// where nla_len counts header + value (unpadded) and each attribute starts 4-byte aligned. The top two bits
// of nla_type are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER) and are masked off.

/// Parsed attributes of one message or nest, in order; later duplicates do not replace earlier ones.
public struct NetlinkAttributes: Sendable {
    public struct Attribute: Hashable, Sendable {
        public var type: UInt16
        /// Offset of the value in the buffer it was parsed from (for error reporting).
        public var offset: Int
        public var value: [UInt8]
    }

    public private(set) var all: [Attribute]

    /// Parses attributes from the rest of `reader`. A tail shorter than an attribute header or a value
    /// running past the window is `truncated` (a cut buffer); `nla_len` < 4 is `badLength`.
    public init(_ reader: NetlinkReader) throws(NetlinkDecodeError) {
        var r = reader
        var list: [Attribute] = []
        while r.remaining > 0 {
            let start = r.position
            guard r.remaining >= 4 else {
                throw NetlinkDecodeError(.truncated, offset: start, context: "\(reader.context): attribute header")
            }
            let length = Int(try r.readUInt16())
            let type = try r.readUInt16() & 0x3fff
            guard length >= 4 else {
                throw NetlinkDecodeError(.badLength, offset: start, context: "\(reader.context): nla_len \(length) of attribute \(type)")
            }
            guard length - 4 <= r.remaining else {
                throw NetlinkDecodeError(.truncated, offset: start, context: "\(reader.context): attribute \(type) runs past its message")
            }
            let valueOffset = r.position
            let value = try r.readBytes(length - 4)
            list.append(Attribute(type: type, offset: valueOffset, value: value))
            r.alignSkip(base: reader.position)
        }
        all = list
    }

    public init(bytes: [UInt8], context: String) throws(NetlinkDecodeError) {
        try self.init(NetlinkReader(bytes, from: 0, to: bytes.count, shortCode: .truncated, context: context))
    }

    public func first(_ type: UInt16) -> Attribute? { all.first { $0.type == type } }

    public func uint32(_ type: UInt16, _ name: String) throws(NetlinkDecodeError) -> UInt32? {
        guard let a = first(type) else { return nil }
        guard a.value.count >= 4 else { throw NetlinkDecodeError(.shortValue, offset: a.offset, context: name) }
        var r = NetlinkReader(a.value, context: name)
        return try r.readUInt32()
    }

    public func bigEndianUInt32(_ type: UInt16, _ name: String) throws(NetlinkDecodeError) -> UInt32? {
        guard let a = first(type) else { return nil }
        guard a.value.count >= 4 else { throw NetlinkDecodeError(.shortValue, offset: a.offset, context: name) }
        var r = NetlinkReader(a.value, context: name)
        return try r.readBigEndianUInt32()
    }

    public func uint8(_ type: UInt16, _ name: String) throws(NetlinkDecodeError) -> UInt8? {
        guard let a = first(type) else { return nil }
        guard let b = a.value.first else { throw NetlinkDecodeError(.shortValue, offset: a.offset, context: name) }
        return b
    }

    /// A NUL-terminated (or plain) string value.
    public func string(_ type: UInt16) -> String? {
        guard let a = first(type) else { return nil }
        return String(decoding: a.value.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An address value of exactly 4 or 16 bytes.
    public func address(_ type: UInt16, _ name: String) throws(NetlinkDecodeError) -> IPAddress? {
        guard let a = first(type) else { return nil }
        guard let ip = IPAddress(networkBytes: a.value) else {
            throw NetlinkDecodeError(.shortValue, offset: a.offset, context: "\(name): \(a.value.count)-byte address")
        }
        return ip
    }

    /// The attributes nested inside attribute `type`.
    public func nested(_ type: UInt16, _ name: String) throws(NetlinkDecodeError) -> NetlinkAttributes? {
        guard let a = first(type) else { return nil }
        return try NetlinkAttributes(bytes: a.value, context: name)
    }

    /// A reader over the value of `type`, for fixed structures; a value cut short is `shortValue`.
    public func reader(_ type: UInt16, _ name: String) -> NetlinkReader? {
        guard let a = first(type) else { return nil }
        return NetlinkReader(a.value, from: 0, to: a.value.count, shortCode: .shortValue, context: name)
    }
}
