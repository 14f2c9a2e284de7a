import NetTypes

// rtnetlink(7) RTM_NEWLINK as the kernel sends it in a dump: ifinfomsg + IFLA_* (IFLA_IFNAME, IFLA_MTU,
// IFLA_LINKINFO with IFLA_INFO_KIND/IFLA_INFO_DATA). Unknown attributes are skipped, never an error:
// the kernel adds new ones in every release.

/// A link as found in the kernel: the value plus what only the kernel knows.
public struct ObservedLink: Hashable, Sendable {
    public var index: Int32
    public var link: Link
    /// ifi_flags (IFF_UP, IFF_RUNNING, IFF_LOWER_UP ...).
    public var flags: UInt32

    public init(index: Int32, link: Link, flags: UInt32) {
        self.index = index
        self.link = link
        self.flags = flags
    }

    /// Decodes one RTM_NEWLINK message.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == RouteMessageType.newLink else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected RTM_NEWLINK, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "ifinfomsg")
        try r.skip(4)  // family, pad, type
        let index = try r.readInt32()
        let flags = try r.readUInt32()
        _ = try r.readUInt32()
        let attrs = try NetlinkAttributes(NetlinkReader(message.payload, from: r.position, to: message.payload.count,
                                                        shortCode: .truncated, context: "RTM_NEWLINK attributes"))
        let name = attrs.string(LinkAttribute.ifname) ?? ""
        let mtu = try attrs.uint32(LinkAttribute.mtu, "IFLA_MTU")
        var kind = LinkKind.other("")
        if let info = try attrs.nested(LinkAttribute.linkinfo, "IFLA_LINKINFO") {
            let kindName = info.string(LinkAttribute.infoKind) ?? ""
            let data = try info.nested(LinkAttribute.infoData, "IFLA_INFO_DATA")
            switch kindName {
            case "xfrm":
                let ifID = try data?.uint32(LinkAttribute.xfrmIfID, "IFLA_XFRM_IF_ID") ?? 0
                let dev = try data?.uint32(LinkAttribute.xfrmLink, "IFLA_XFRM_LINK")
                kind = .xfrm(ifID: ifID, underlyingIndex: dev == 0 ? nil : dev)
            case "vti", "vti6":
                let ikey = try data?.bigEndianUInt32(LinkAttribute.vtiIKey, "IFLA_VTI_IKEY") ?? 0
                let okey = try data?.bigEndianUInt32(LinkAttribute.vtiOKey, "IFLA_VTI_OKEY") ?? 0
                let unspecified: IPAddress = kindName == "vti" ? .v4(0) : .v6(0, 0)
                let local = try data?.address(LinkAttribute.vtiLocal, "IFLA_VTI_LOCAL") ?? unspecified
                let remote = try data?.address(LinkAttribute.vtiRemote, "IFLA_VTI_REMOTE") ?? unspecified
                kind = .vti(ikey: ikey, okey: okey, local: local, remote: remote)
            case "tun":
                kind = .tun
            default:
                kind = .other(kindName)
            }
        }
        self.init(index: index, link: Link(name: name, kind: kind, mtu: mtu, up: flags & interfaceFlagUp != 0), flags: flags)
    }
}
