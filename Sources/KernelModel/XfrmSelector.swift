import NetTypes

// linux/xfrm.h struct xfrm_selector (56 bytes): xfrm_address_t daddr, saddr; __be16 dport, dport_mask,
// sport, sport_mask; __u16 family; __u8 prefixlen_d, prefixlen_s, proto; (pad) int ifindex; __kernel_uid32_t user.

/// Which packets a policy (or an SA's selector) applies to. Route-based tunnels use the all-zero
/// selectors `0.0.0.0/0 -> 0.0.0.0/0` and `::/0 -> ::/0`; what enters the tunnel is then decided by routing.
public struct XfrmSelector: Hashable, Sendable, CustomStringConvertible {
    public static let size = 56

    public var source: IPPrefix
    public var destination: IPPrefix
    /// IP protocol number (0: any).
    public var ipProtocol: UInt8
    public var sourcePort: UInt16
    public var sourcePortMask: UInt16
    public var destinationPort: UInt16
    public var destinationPortMask: UInt16
    public var interfaceIndex: Int32

    public init(source: IPPrefix, destination: IPPrefix, ipProtocol: UInt8 = 0, sourcePort: UInt16 = 0, sourcePortMask: UInt16 = 0,
                destinationPort: UInt16 = 0, destinationPortMask: UInt16 = 0, interfaceIndex: Int32 = 0) {
        self.source = source
        self.destination = destination
        self.ipProtocol = ipProtocol
        self.sourcePort = sourcePort
        self.sourcePortMask = sourcePortMask
        self.destinationPort = destinationPort
        self.destinationPortMask = destinationPortMask
        self.interfaceIndex = interfaceIndex
    }

    /// `src 0.0.0.0/0 dst 0.0.0.0/0` or `src ::/0 dst ::/0`.
    public static func any(_ family: IPAddress.Family) -> XfrmSelector {
        let zero = IPPrefix(network: family == .ipv4 ? .v4(0) : .v6(0, 0), length: 0)
        return XfrmSelector(source: zero, destination: zero)
    }

    public var family: IPAddress.Family { source.family }

    public var description: String {
        var s = "src \(source) dst \(destination)"
        if ipProtocol != 0 { s += " proto \(ipProtocol)" }
        return s
    }

    func encode(into w: inout NetlinkWriter) {
        w.write(xfrmAddress: destination.address)
        w.write(xfrmAddress: source.address)
        w.writeBigEndian(destinationPort)
        w.writeBigEndian(destinationPortMask)
        w.writeBigEndian(sourcePort)
        w.writeBigEndian(sourcePortMask)
        w.write(AddressFamily.of(source.address))
        w.write(UInt8(truncatingIfNeeded: destination.length))
        w.write(UInt8(truncatingIfNeeded: source.length))
        w.write(ipProtocol)
        w.writeZeros(3)
        w.write(interfaceIndex)
        w.write(UInt32(0))  // user
    }

    /// The all-zero selector with family 0 that iproute2 sends for an SA without `sel`.
    static func encodeUnspecified(into w: inout NetlinkWriter) { w.writeZeros(size) }

    /// Decodes a selector; family 0 (an SA without selector) decodes to nil.
    static func decode(_ r: inout NetlinkReader) throws(NetlinkDecodeError) -> XfrmSelector? {
        var s = try r.window(size, context: "xfrm_selector")
        let start = s.position
        let daddrRaw = try s.readBytes(16)
        let saddrRaw = try s.readBytes(16)
        let dport = try s.readBigEndianUInt16()
        let dportMask = try s.readBigEndianUInt16()
        let sport = try s.readBigEndianUInt16()
        let sportMask = try s.readBigEndianUInt16()
        let family = try s.readUInt16()
        let dlen = Int(try s.readUInt8())
        let slen = Int(try s.readUInt8())
        let proto = try s.readUInt8()
        try s.skip(3)
        let ifindex = try s.readInt32()
        let count: Int
        switch family {
        case 0: return nil
        case AddressFamily.inet: count = 4
        case AddressFamily.inet6: count = 16
        default: throw NetlinkDecodeError(.unsupportedValue, offset: start + 40, context: "xfrm_selector family \(family)")
        }
        guard let d = IPAddress(networkBytes: Array(daddrRaw[0..<count])),
              let src = IPAddress(networkBytes: Array(saddrRaw[0..<count])),
              dlen <= count * 8, slen <= count * 8 else {
            throw NetlinkDecodeError(.unsupportedValue, offset: start + 42, context: "xfrm_selector prefix length")
        }
        return XfrmSelector(source: IPPrefix(network: src, length: slen), destination: IPPrefix(network: d, length: dlen),
                            ipProtocol: proto, sourcePort: sport, sourcePortMask: sportMask,
                            destinationPort: dport, destinationPortMask: dportMask, interfaceIndex: ifindex)
    }
}
