import NetTypes

// rtnetlink(7) RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK: struct ifinfomsg { unsigned char ifi_family;
// unsigned char __pad; unsigned short ifi_type; int ifi_index; unsigned ifi_flags; unsigned ifi_change; }
// (16 bytes) + IFLA_* attributes; the kind-specific settings live in IFLA_LINKINFO { IFLA_INFO_KIND,
// IFLA_INFO_DATA { IFLA_XFRM_* | IFLA_VTI_* } }.

/// What kind of interface a link is, with the settings that identify it to the kernel's IPsec lookup.
public enum LinkKind: Hashable, Sendable {
    /// An XFRM interface: SAs and policies carrying the same `if_id` are bound to it. `underlyingIndex`
    /// (IFLA_XFRM_LINK) is the device whose ifindex lookups use; nil leaves it unset.
    case xfrm(ifID: UInt32, underlyingIndex: UInt32?)
    /// A VTI (`vti`, or `vti6` for IPv6 endpoints): traffic is matched to SAs/policies by mark `ikey`/`okey`.
    case vti(ikey: UInt32, okey: UInt32, local: IPAddress, remote: IPAddress)
    /// A TUN device (the userspace data plane). Created through /dev/net/tun, not rtnetlink.
    case tun
    /// Any other kind seen in a dump (`dummy`, `veth`, "" for loopback ...). Never created by Viaduct.
    case other(String)

    /// The IFLA_INFO_KIND string.
    public var kindName: String {
        switch self {
        case .xfrm: return "xfrm"
        case .vti(_, _, let local, _): return local.family == .ipv4 ? "vti" : "vti6"
        case .tun: return "tun"
        case .other(let name): return name
        }
    }
}

/// A network interface as Viaduct wants it (or found it). Identity is the name; the kernel's ifindex is
/// carried separately by `ObservedLink` because it is only known after creation.
public struct Link: Hashable, Sendable, CustomStringConvertible {
    /// Linux limits interface names to IFNAMSIZ - 1 bytes.
    public static let maximumNameLength = 15

    public var name: String
    public var kind: LinkKind
    /// nil: leave the kernel's default.
    public var mtu: UInt32?
    public var up: Bool

    public init(name: String, kind: LinkKind, mtu: UInt32? = nil, up: Bool = false) {
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.up = up
    }

    public var description: String {
        var s = "link \(name) type \(kind.kindName)"
        switch kind {
        case .xfrm(let ifID, let dev):
            s += " if_id \(ifID)" + (dev.map { " dev #\($0)" } ?? "")
        case .vti(let ikey, let okey, let local, let remote):
            s += " local \(local) remote \(remote) ikey \(ikey) okey \(okey)"
        case .tun, .other:
            break
        }
        return s
    }

    /// RTM_NEWLINK creating the link.
    ///
    /// Equivalent to: `ip link add NAME [mtu MTU] [up] type xfrm [dev DEV] if_id ID` or
    /// `ip link add NAME type vti local L remote R ikey I okey O`.
    /// TUN links cannot be created this way (`notCreatableByNetlink`): use `KernelDataplane.TunDevice`.
    public func addRequest() throws(KernelModelError) -> NetlinkRequest {
        try Link.checkName(name)
        var w = NetlinkWriter()
        w.write(UInt8(0))           // ifi_family
        w.write(UInt8(0))           // __pad
        w.write(UInt16(0))          // ifi_type
        w.write(Int32(0))           // ifi_index
        w.write(up ? interfaceFlagUp : 0)   // ifi_flags
        w.write(up ? interfaceFlagUp : 0)   // ifi_change
        w.attribute(LinkAttribute.ifname, string: name)
        if let mtu { w.attribute(LinkAttribute.mtu, uint32: mtu) }
        switch kind {
        case .xfrm(let ifID, let underlying):
            w.nested(LinkAttribute.linkinfo) { info in
                info.attribute(LinkAttribute.infoKind, Array("xfrm".utf8))   // no NUL, as iproute2 sends it
                info.nested(LinkAttribute.infoData) { data in
                    data.attribute(LinkAttribute.xfrmIfID, uint32: ifID)
                    if let underlying { data.attribute(LinkAttribute.xfrmLink, uint32: underlying) }
                }
            }
        case .vti(let ikey, let okey, let local, let remote):
            guard local.family == remote.family else {
                throw KernelModelError(.familyMismatch, "\(description): local \(local) and remote \(remote)")
            }
            w.nested(LinkAttribute.linkinfo) { info in
                info.attribute(LinkAttribute.infoKind, Array(kind.kindName.utf8))
                info.nested(LinkAttribute.infoData) { data in
                    var k = NetlinkWriter()
                    k.writeBigEndian(ikey)
                    data.attribute(LinkAttribute.vtiIKey, k.bytes)
                    k = NetlinkWriter()
                    k.writeBigEndian(okey)
                    data.attribute(LinkAttribute.vtiOKey, k.bytes)
                    data.attribute(LinkAttribute.vtiLocal, local.bytes)
                    data.attribute(LinkAttribute.vtiRemote, remote.bytes)
                    data.attribute(LinkAttribute.vtiFwmark, uint32: 0)
                }
            }
        case .tun, .other:
            throw KernelModelError(.notCreatableByNetlink, "\(description): create it through /dev/net/tun or another tool")
        }
        let message = NetlinkMessage(type: RouteMessageType.newLink, flags: [.request, .ack, .excl, .create], payload: w.bytes)
        return NetlinkRequest(message, summary: "adding \(description)")
    }

    /// RTM_DELLINK by index.
    ///
    /// Equivalent to: `ip link del NAME`.
    public static func deleteRequest(index: Int32, name: String) -> NetlinkRequest {
        let message = NetlinkMessage(type: RouteMessageType.deleteLink, flags: [.request, .ack],
                                     payload: ifinfomsg(index: index, flags: 0, change: 0))
        return NetlinkRequest(message, summary: "deleting link \(name)")
    }

    /// RTM_NEWLINK on an existing link changing only IFF_UP.
    ///
    /// Equivalent to: `ip link set NAME up` / `ip link set NAME down`.
    public static func setStateRequest(index: Int32, name: String, up: Bool) -> NetlinkRequest {
        let message = NetlinkMessage(type: RouteMessageType.newLink, flags: [.request, .ack],
                                     payload: ifinfomsg(index: index, flags: up ? interfaceFlagUp : 0, change: interfaceFlagUp))
        return NetlinkRequest(message, summary: "setting link \(name) \(up ? "up" : "down")")
    }

    /// RTM_NEWLINK on an existing link setting IFLA_MTU.
    ///
    /// Equivalent to: `ip link set NAME mtu MTU`.
    public static func setMTURequest(index: Int32, name: String, mtu: UInt32) -> NetlinkRequest {
        var w = NetlinkWriter()
        w.write(bytes: ifinfomsg(index: index, flags: 0, change: 0))
        w.attribute(LinkAttribute.mtu, uint32: mtu)
        let message = NetlinkMessage(type: RouteMessageType.newLink, flags: [.request, .ack], payload: w.bytes)
        return NetlinkRequest(message, summary: "setting link \(name) mtu \(mtu)")
    }

    /// RTM_GETLINK for one link by name: the kernel answers with that link's RTM_NEWLINK, or
    /// ENODEV. One link costs one round trip instead of a dump of every link.
    ///
    /// Equivalent to: `ip -d link show NAME`.
    public static func getRequest(name: String) throws(KernelModelError) -> NetlinkRequest {
        try checkName(name)
        var w = NetlinkWriter()
        w.write(bytes: ifinfomsg(index: 0, flags: 0, change: 0))
        w.attribute(LinkAttribute.ifname, string: name)
        return NetlinkRequest(NetlinkMessage(type: RouteMessageType.getLink, flags: [.request], payload: w.bytes),
                              summary: "looking up link \(name)")
    }

    /// RTM_GETLINK dump.
    ///
    /// Equivalent to: `ip -d link show`.
    public static func dumpRequest() -> NetlinkRequest {
        let message = NetlinkMessage(type: RouteMessageType.getLink, flags: [.request, .dump],
                                     payload: ifinfomsg(index: 0, flags: 0, change: 0))
        return NetlinkRequest(message, summary: "listing links")
    }

    static func ifinfomsg(index: Int32, flags: UInt32, change: UInt32) -> [UInt8] {
        var w = NetlinkWriter()
        w.write(UInt8(0))
        w.write(UInt8(0))
        w.write(UInt16(0))
        w.write(index)
        w.write(flags)
        w.write(change)
        return w.bytes
    }

    public static func checkName(_ name: String) throws(KernelModelError) {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength, !name.utf8.contains(0), !name.contains("/") else {
            throw KernelModelError(.fieldTooLong, "interface name \"\(name)\" must be 1...\(maximumNameLength) bytes without '/' or NUL")
        }
    }
}
