// RFC 8019 §4.2: limits per source address; an IPv6 site owns a /64, so it counts as one source.

/// The unit the admission gate counts per: an IPv4 address, or the /64 an IPv6 address is in.
public struct IKEAdmissionSource: Hashable, Sendable, CustomStringConvertible {
    public let isIPv6: Bool
    /// The IPv4 address, or the first 64 bits of the IPv6 address.
    public let prefix: UInt64

    /// Nil unless `address` is 4 or 16 bytes.
    public init?(address: [UInt8]) {
        switch address.count {
        case 4: isIPv6 = false
        case 16: isIPv6 = true
        default: return nil
        }
        prefix = address.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var description: String {
        if !isIPv6 { return (0..<4).map { String(prefix >> UInt64(24 - 8 * $0) & 0xFF) }.joined(separator: ".") }
        let groups = (0..<4).map { String(prefix >> UInt64(48 - 16 * $0) & 0xFFFF, radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
