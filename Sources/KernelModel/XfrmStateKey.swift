import NetTypes

// linux/xfrm.h struct xfrm_usersa_id { xfrm_address_t daddr; __be32 spi; __u16 family; __u8 proto; }
// (24 bytes) + XFRMA_SRCADDR (+ XFRMA_MARK): how the kernel finds one SA for GETSA and DELSA.

/// What identifies an SA in the kernel: destination, SPI and protocol (plus source and mark).
public struct XfrmStateKey: Hashable, Sendable, CustomStringConvertible {
    public static let usersaIDSize = 24

    public var source: IPAddress
    public var destination: IPAddress
    public var ipsecProtocol: XfrmProtocol
    public var spi: UInt32
    public var mark: XfrmMark?

    public init(source: IPAddress, destination: IPAddress, ipsecProtocol: XfrmProtocol = .esp, spi: UInt32, mark: XfrmMark? = nil) {
        self.source = source
        self.destination = destination
        self.ipsecProtocol = ipsecProtocol
        self.spi = spi
        self.mark = mark
    }

    public var description: String {
        "SA \(ipsecProtocol) spi 0x\(String(spi, radix: 16)) \(source) -> \(destination)" + (mark.map { " \($0)" } ?? "")
    }

    /// XFRM_MSG_DELSA.
    ///
    /// Equivalent to: `ip xfrm state delete src S dst D proto esp spi SPI [mark M mask K]`.
    public func deleteRequest() -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.deleteSA, flags: [.request, .ack], payload: payload()),
                       summary: "deleting \(description)")
    }

    /// XFRM_MSG_GETSA for one SA (the reply is an XFRM_MSG_NEWSA).
    ///
    /// Equivalent to: `ip xfrm state get src S dst D proto esp spi SPI`.
    public func getRequest() -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: XfrmMessageType.getSA, flags: [.request], payload: payload()),
                       summary: "reading \(description)")
    }

    func payload() -> [UInt8] {
        var w = NetlinkWriter()
        w.write(xfrmAddress: destination)
        w.writeBigEndian(spi)
        w.write(AddressFamily.of(destination))
        w.write(ipsecProtocol.rawValue)
        w.writeZeros(1)
        w.attribute(XfrmAttribute.srcAddr, { var a = NetlinkWriter(); a.write(xfrmAddress: source); return a.bytes }())
        mark?.attribute(into: &w)
        return w.bytes
    }
}
