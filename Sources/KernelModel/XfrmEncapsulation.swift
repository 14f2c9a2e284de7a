import NetTypes

// RFC 3948 §2 (UDP encapsulation of ESP), linux/xfrm.h struct xfrm_encap_tmpl { __u16 encap_type;
// __be16 encap_sport, encap_dport; xfrm_address_t encap_oa; } (24 bytes) as XFRMA_ENCAP.

/// UDP encapsulation of an SA behind NAT (UDP_ENCAP_ESPINUDP = 2, ports usually 4500/4500).
public struct XfrmEncapsulation: Hashable, Sendable {
    public static let espInUDP: UInt16 = 2

    public var type: UInt16
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// NAT-OA, the original address (unused by the kernel for tunnel mode).
    public var originalAddress: IPAddress?

    public init(type: UInt16 = XfrmEncapsulation.espInUDP, sourcePort: UInt16 = 4500, destinationPort: UInt16 = 4500,
                originalAddress: IPAddress? = nil) {
        self.type = type
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.originalAddress = originalAddress
    }

    func encode(into w: inout NetlinkWriter) {
        var e = NetlinkWriter()
        e.write(type)
        e.writeBigEndian(sourcePort)
        e.writeBigEndian(destinationPort)
        e.writeZeros(2)
        e.write(xfrmAddress: originalAddress)
        w.attribute(XfrmAttribute.encap, e.bytes)
    }

    static func decode(_ attrs: NetlinkAttributes, family: UInt16) throws(NetlinkDecodeError) -> XfrmEncapsulation? {
        guard var r = attrs.reader(XfrmAttribute.encap, "XFRMA_ENCAP") else { return nil }
        let type = try r.readUInt16()
        let sport = try r.readBigEndianUInt16()
        let dport = try r.readBigEndianUInt16()
        try r.skip(2)
        let raw = try r.readBytes(16)
        let oa: IPAddress? = raw.allSatisfy { $0 == 0 } ? nil
            : IPAddress(networkBytes: family == AddressFamily.inet6 ? raw : Array(raw[0..<4]))
        return XfrmEncapsulation(type: type, sourcePort: sport, destinationPort: dport, originalAddress: oa)
    }
}
