import NetTypes

// netlink(7), rtnetlink(7): message and attribute layout. Integers are in host byte order (the kernel's
// `__u32` fields; Viaduct runs on little-endian Linux, x86_64 and arm64, so they are written little-endian); fields the kernel declares `__be16`/`__be32` (ports, SPIs, VTI keys, addresses) are
// written in network order by the callers through `writeBigEndian`. Every attribute is padded to 4 bytes
// (NLA_ALIGNTO); `nla_len` counts the unpadded value, a nest's length counts its padded children, exactly as
// iproute2's addattr_l / addattr_nest_end do.

/// Appends netlink structures to a byte buffer.
public struct NetlinkWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init() { bytes = [] }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }

    public mutating func write(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }

    public mutating func write(_ value: Int32) { write(UInt32(bitPattern: value)) }

    public mutating func write(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }

    public mutating func writeBigEndian(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeBigEndian(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func write(bytes more: [UInt8]) { bytes.append(contentsOf: more) }

    public mutating func writeZeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: max(0, count))) }

    /// Pads with zeros to the next multiple of 4 (NLMSG_ALIGN / NLA_ALIGN).
    public mutating func align() { writeZeros((4 - bytes.count % 4) % 4) }

    /// An attribute whose value is `value`, padded.
    public mutating func attribute(_ type: UInt16, _ value: [UInt8]) {
        write(UInt16(truncatingIfNeeded: 4 + value.count))
        write(type)
        write(bytes: value)
        align()
    }

    public mutating func attribute(_ type: UInt16, uint32 value: UInt32) {
        var w = NetlinkWriter()
        w.write(value)
        attribute(type, w.bytes)
    }

    /// A NUL-terminated string attribute (NLA_NUL_STRING, as `ip` sends names).
    public mutating func attribute(_ type: UInt16, string value: String) {
        attribute(type, Array(value.utf8) + [0])
    }

    /// A nested attribute (NLA_F_NESTED is not set, as iproute2 does not set it).
    public mutating func nested(_ type: UInt16, _ body: (inout NetlinkWriter) -> Void) {
        var inner = NetlinkWriter()
        body(&inner)
        write(UInt16(truncatingIfNeeded: 4 + inner.bytes.count))
        write(type)
        write(bytes: inner.bytes)
    }

    /// An address as 4 (IPv4) or 16 (IPv6) bytes, network order.
    public mutating func write(address: IPAddress) { write(bytes: address.bytes) }

    /// `xfrm_address_t`: a 16-byte union; an IPv4 address fills the first 4 bytes.
    public mutating func write(xfrmAddress address: IPAddress?) {
        let raw = address?.bytes ?? []
        write(bytes: raw)
        writeZeros(16 - raw.count)
    }
}
