import NetTypes

// RFC 4301 §4.4.2.1 (SPI selection by the receiver), linux/xfrm.h struct xfrm_userspi_info
// { struct xfrm_usersa_info info; __u32 min; __u32 max; } (232 bytes): the kernel picks a free SPI in
// [min, max] and installs a larval SA; XFRM_MSG_UPDSA later completes it with keys.

/// A request for the kernel to allocate an inbound SPI.
public struct XfrmSPIRequest: Hashable, Sendable, CustomStringConvertible {
    public static let userspiInfoSize = 232

    /// The remote end (the SA's source: inbound SAs go from the peer to us).
    public var source: IPAddress
    public var destination: IPAddress
    public var ipsecProtocol: XfrmProtocol
    public var mode: XfrmMode
    public var reqid: UInt32
    public var range: ClosedRange<UInt32>
    public var interfaceID: UInt32?
    public var mark: XfrmMark?

    /// SPIs below 256 are reserved (RFC 4303 §2.1); strongSwan uses 0xc0000000...0xcfffffff.
    public init(source: IPAddress, destination: IPAddress, ipsecProtocol: XfrmProtocol = .esp, mode: XfrmMode = .tunnel,
                reqid: UInt32, range: ClosedRange<UInt32> = 0xc000_0000...0xcfff_ffff, interfaceID: UInt32? = nil, mark: XfrmMark? = nil) {
        self.source = source
        self.destination = destination
        self.ipsecProtocol = ipsecProtocol
        self.mode = mode
        self.reqid = reqid
        self.range = range
        self.interfaceID = interfaceID
        self.mark = mark
    }

    public var description: String { "SPI allocation \(ipsecProtocol) \(source) -> \(destination) reqid \(reqid)" }

    /// XFRM_MSG_ALLOCSPI; the answer is an XFRM_MSG_NEWSA carrying the chosen SPI (decode with `XfrmState`).
    ///
    /// Equivalent to: `ip xfrm state allocspi src S dst D proto esp reqid R mode tunnel min 0xc0000000 max 0xcfffffff`.
    public func allocateRequest() throws(KernelModelError) -> NetlinkRequest {
        guard source.family == destination.family else {
            throw KernelModelError(.familyMismatch, "\(description): source and destination of different families")
        }
        let larval = XfrmState(source: source, destination: destination, ipsecProtocol: ipsecProtocol, spi: 0, mode: mode,
                               reqid: reqid, algorithms: nil)
        var w = NetlinkWriter()
        w.write(bytes: Array(try larval.payload().prefix(XfrmState.usersaInfoSize)))
        w.write(range.lowerBound)
        w.write(range.upperBound)
        mark?.attribute(into: &w)
        if let interfaceID { w.attribute(XfrmAttribute.ifID, uint32: interfaceID) }
        return NetlinkRequest(NetlinkMessage(type: XfrmMessageType.allocSPI, flags: [.request], payload: w.bytes),
                              summary: "allocating SPI for \(description)")
    }
}
