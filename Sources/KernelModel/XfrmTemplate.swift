import NetTypes

// linux/xfrm.h struct xfrm_user_tmpl (64 bytes): xfrm_id id (24) | __u16 family | xfrm_address_t saddr (at 28)
// | __u32 reqid | __u8 mode, share, optional | __u32 aalgos, ealgos, calgos. Carried in XFRMA_TMPL.

/// What SA a policy requires: in tunnel mode the outer addresses, protocol and reqid.
public struct XfrmTemplate: Hashable, Sendable, CustomStringConvertible {
    public static let size = 64

    public var source: IPAddress
    public var destination: IPAddress
    public var ipsecProtocol: XfrmProtocol
    public var mode: XfrmMode
    public var reqid: UInt32
    /// 0 matches any SPI.
    public var spi: UInt32
    public var optional: Bool

    public init(source: IPAddress, destination: IPAddress, ipsecProtocol: XfrmProtocol = .esp, mode: XfrmMode = .tunnel,
                reqid: UInt32, spi: UInt32 = 0, optional: Bool = false) {
        self.source = source
        self.destination = destination
        self.ipsecProtocol = ipsecProtocol
        self.mode = mode
        self.reqid = reqid
        self.spi = spi
        self.optional = optional
    }

    public var description: String { "tmpl src \(source) dst \(destination) proto \(ipsecProtocol) reqid \(reqid) mode \(mode)" }

    func encode(into w: inout NetlinkWriter) {
        w.write(xfrmAddress: destination)
        w.writeBigEndian(spi)
        w.write(ipsecProtocol.rawValue)
        w.writeZeros(3)
        w.write(AddressFamily.of(destination))
        w.writeZeros(2)
        w.write(xfrmAddress: source)
        w.write(reqid)
        w.write(mode.rawValue)
        w.write(UInt8(0))                  // share: XFRM_SHARE_ANY
        w.write(UInt8(optional ? 1 : 0))
        w.writeZeros(1)
        w.write(UInt32.max)                // aalgos: any
        w.write(UInt32.max)                // ealgos
        w.write(UInt32.max)                // calgos
    }

    static func decodeAll(_ attrs: NetlinkAttributes) throws(NetlinkDecodeError) -> [XfrmTemplate] {
        guard let a = attrs.first(XfrmAttribute.template) else { return [] }
        var r = NetlinkReader(a.value, from: 0, to: a.value.count, shortCode: .shortValue, context: "XFRMA_TMPL")
        var out: [XfrmTemplate] = []
        while !r.isAtEnd {
            var t = try r.window(size, context: "xfrm_user_tmpl")
            let daddrRaw = try t.readBytes(16)
            let spi = try t.readBigEndianUInt32()
            let protoRaw = try t.readUInt8()
            try t.skip(3)
            let family = try t.readUInt16()
            try t.skip(2)
            let saddrRaw = try t.readBytes(16)
            let reqid = try t.readUInt32()
            let modeRaw = try t.readUInt8()
            _ = try t.readUInt8()
            let optional = try t.readUInt8()
            let count = family == AddressFamily.inet6 ? 16 : 4
            guard family == AddressFamily.inet || family == AddressFamily.inet6,
                  let d = IPAddress(networkBytes: Array(daddrRaw[0..<count])),
                  let s = IPAddress(networkBytes: Array(saddrRaw[0..<count])) else {
                throw NetlinkDecodeError(.unsupportedValue, offset: a.offset, context: "xfrm_user_tmpl family \(family)")
            }
            guard let proto = XfrmProtocol(rawValue: protoRaw), let mode = XfrmMode(rawValue: modeRaw) else {
                throw NetlinkDecodeError(.unsupportedValue, offset: a.offset, context: "xfrm_user_tmpl proto \(protoRaw) mode \(modeRaw)")
            }
            out.append(XfrmTemplate(source: s, destination: d, ipsecProtocol: proto, mode: mode, reqid: reqid, spi: spi,
                                    optional: optional != 0))
        }
        return out
    }
}
