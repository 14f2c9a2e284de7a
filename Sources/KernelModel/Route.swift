import NetTypes

// rtnetlink(7) RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE: struct rtmsg { unsigned char rtm_family,
// rtm_dst_len, rtm_src_len, rtm_tos, rtm_table, rtm_protocol, rtm_scope, rtm_type; unsigned rtm_flags; }
// (12 bytes) + RTA_DST, RTA_PREFSRC, RTA_GATEWAY, RTA_PRIORITY, RTA_METRICS, RTA_OIF (iproute2's order).

/// `rtm_protocol` values. Viaduct marks every route it installs with its own number so that it touches
/// only its routes, and a BGP daemon (BIRD, FRR) can tell them apart from its own and from `static`.
public enum RouteProtocol {
    /// Viaduct's number. 222 is unassigned in iproute2's /etc/iproute2/rt_protos (which reserves 0-4, 8-16,
    /// 18, 42, 99, 186-192) and in the kernel's RTPROT_* list (linux/rtnetlink.h, up to RTPROT_OPENR 99 and
    /// the routing daemons 186-192). Name it with `echo "222 viaduct" > /etc/iproute2/rt_protos.d/viaduct.conf`.
    public static let viaduct: UInt8 = 222
    public static let boot: UInt8 = 3
    public static let staticRoute: UInt8 = 4
    public static let kernel: UInt8 = 2
}

/// A unicast route through an interface.
public struct Route: Hashable, Sendable, CustomStringConvertible {
    /// The main table (RT_TABLE_MAIN).
    public static let mainTable: UInt32 = 254

    public var destination: IPPrefix
    public var outputInterface: Int32
    public var gateway: IPAddress?
    public var preferredSource: IPAddress?
    public var protocolNumber: UInt8
    public var table: UInt32
    /// RTA_PRIORITY (the `metric` of `ip route`).
    public var priority: UInt32?
    /// RTAX_MTU inside RTA_METRICS.
    public var mtu: UInt32?
    /// RTAX_ADVMSS inside RTA_METRICS.
    public var advertisedMSS: UInt32?

    public init(destination: IPPrefix, outputInterface: Int32, gateway: IPAddress? = nil, preferredSource: IPAddress? = nil,
                protocolNumber: UInt8 = RouteProtocol.viaduct, table: UInt32 = Route.mainTable, priority: UInt32? = nil,
                mtu: UInt32? = nil, advertisedMSS: UInt32? = nil) {
        self.destination = destination
        self.outputInterface = outputInterface
        self.gateway = gateway
        self.preferredSource = preferredSource
        self.protocolNumber = protocolNumber
        self.table = table
        self.priority = priority
        self.mtu = mtu
        self.advertisedMSS = advertisedMSS
    }

    public var description: String { describe(interfaceName: nil) }

    /// `198.18.2.0/24 dev vd-dc2 proto 222`, with the interface name when known.
    public func describe(interfaceName: String?) -> String {
        var s = "route \(destination)"
        if let gateway { s += " via \(gateway)" }
        s += " dev " + (interfaceName ?? "#\(outputInterface)")
        if let preferredSource { s += " src \(preferredSource)" }
        if protocolNumber != RouteProtocol.boot { s += " proto \(protocolNumber)" }
        if table != Route.mainTable { s += " table \(table)" }
        if let priority { s += " metric \(priority)" }
        if let mtu { s += " mtu \(mtu)" }
        return s
    }

    /// RTM_NEWROUTE (create, fail if present).
    ///
    /// Equivalent to: `ip route add DST dev NAME [via GW] [src SRC] proto 222 [table T] [metric P] [mtu M]`.
    public func addRequest(interfaceName: String? = nil) throws(KernelModelError) -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: RouteMessageType.newRoute, flags: [.request, .ack, .excl, .create], payload: try payload()),
                       summary: "adding " + describe(interfaceName: interfaceName))
    }

    /// RTM_NEWROUTE replacing any route to the same destination/table/metric.
    ///
    /// Equivalent to: `ip route replace DST dev NAME proto 222 ...`.
    public func replaceRequest(interfaceName: String? = nil) throws(KernelModelError) -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: RouteMessageType.newRoute, flags: [.request, .ack, .replace, .create], payload: try payload()),
                       summary: "replacing " + describe(interfaceName: interfaceName))
    }

    /// RTM_DELROUTE.
    ///
    /// Equivalent to: `ip route del DST dev NAME proto 222 [table T]`.
    public func deleteRequest(interfaceName: String? = nil) throws(KernelModelError) -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: RouteMessageType.deleteRoute, flags: [.request, .ack], payload: try payload(deleting: true)),
                       summary: "deleting " + describe(interfaceName: interfaceName))
    }

    /// RTM_GETROUTE dump of one family.
    ///
    /// Equivalent to: `ip route show table all` (`ip -6 route show table all`).
    public static func dumpRequest(family: IPAddress.Family) -> NetlinkRequest {
        var w = NetlinkWriter()
        w.write(UInt8(truncatingIfNeeded: family == .ipv4 ? AddressFamily.inet : AddressFamily.inet6))
        w.writeZeros(11)
        return NetlinkRequest(NetlinkMessage(type: RouteMessageType.getRoute, flags: [.request, .dump], payload: w.bytes),
                              summary: "listing \(family) routes")
    }

    func payload(deleting: Bool = false) throws(KernelModelError) -> [UInt8] {
        let family = destination.family
        if let gateway, gateway.family != family {
            throw KernelModelError(.familyMismatch, "\(description): gateway of another family")
        }
        if let preferredSource, preferredSource.family != family {
            throw KernelModelError(.familyMismatch, "\(description): source of another family")
        }
        var w = NetlinkWriter()
        w.write(UInt8(truncatingIfNeeded: AddressFamily.of(destination.address)))
        w.write(UInt8(truncatingIfNeeded: destination.length))
        w.write(UInt8(0))                                   // rtm_src_len
        w.write(UInt8(0))                                   // rtm_tos
        w.write(UInt8(truncatingIfNeeded: table < 256 ? table : 0))   // RT_TABLE_UNSPEC + RTA_TABLE above 255
        w.write(protocolNumber)
        // RT_SCOPE_LINK (253) for a route straight out of an interface, RT_SCOPE_UNIVERSE (0) through a gateway.
        // Deletes carry RT_SCOPE_NOWHERE (255), as iproute2's do, which the kernel reads as "any scope".
        w.write(UInt8(deleting ? 255 : (gateway == nil ? 253 : 0)))
        w.write(UInt8(1))                                   // RTN_UNICAST
        w.write(UInt32(0))                                  // rtm_flags
        if table >= 256 { w.attribute(RouteAttribute.table, uint32: table) }
        w.attribute(RouteAttribute.dst, destination.address.bytes)
        if let preferredSource { w.attribute(RouteAttribute.prefsrc, preferredSource.bytes) }
        if let gateway { w.attribute(RouteAttribute.gateway, gateway.bytes) }
        if let priority { w.attribute(RouteAttribute.priority, uint32: priority) }
        if mtu != nil || advertisedMSS != nil {
            w.nested(RouteAttribute.metrics) { m in
                if let mtu { m.attribute(RouteAttribute.metricMTU, uint32: mtu) }
                if let advertisedMSS { m.attribute(RouteAttribute.metricAdvMSS, uint32: advertisedMSS) }
            }
        }
        w.attribute(RouteAttribute.oif, uint32: UInt32(bitPattern: outputInterface))
        return w.bytes
    }

    /// Decodes one RTM_NEWROUTE from a dump. Routes without RTA_OIF (blackhole, multipath) decode with
    /// interface 0; non-unicast routes are still decoded so a filter can look at their protocol.
    public init(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        guard message.type == RouteMessageType.newRoute else {
            throw NetlinkDecodeError(.unexpectedType, offset: 0, context: "expected RTM_NEWROUTE, got type \(message.type)")
        }
        var r = NetlinkReader(message.payload, from: 0, to: message.payload.count, shortCode: .shortValue, context: "rtmsg")
        let family = UInt16(try r.readUInt8())
        let dstLength = Int(try r.readUInt8())
        try r.skip(2)
        let table = try r.readUInt8()
        let proto = try r.readUInt8()
        try r.skip(2)
        _ = try r.readUInt32()
        guard family == AddressFamily.inet || family == AddressFamily.inet6 else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 0, context: "rtmsg family \(family)")
        }
        let bits = family == AddressFamily.inet ? 32 : 128
        guard dstLength <= bits else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 1, context: "rtm_dst_len \(dstLength)")
        }
        let attrs = try NetlinkAttributes(NetlinkReader(message.payload, from: r.position, to: message.payload.count,
                                                        shortCode: .truncated, context: "RTM_NEWROUTE attributes"))
        let zero: IPAddress = family == AddressFamily.inet ? .v4(0) : .v6(0, 0)
        let dst = try attrs.address(RouteAttribute.dst, "RTA_DST") ?? zero
        guard dst.family == zero.family else {
            throw NetlinkDecodeError(.unsupportedValue, offset: 0, context: "RTA_DST of another family than rtm_family")
        }
        var mtu: UInt32?
        var mss: UInt32?
        if let metrics = try attrs.nested(RouteAttribute.metrics, "RTA_METRICS") {
            mtu = try metrics.uint32(RouteAttribute.metricMTU, "RTAX_MTU")
            mss = try metrics.uint32(RouteAttribute.metricAdvMSS, "RTAX_ADVMSS")
        }
        self.init(destination: IPPrefix(network: dst, length: dstLength),
                  outputInterface: Int32(bitPattern: try attrs.uint32(RouteAttribute.oif, "RTA_OIF") ?? 0),
                  gateway: try attrs.address(RouteAttribute.gateway, "RTA_GATEWAY"),
                  preferredSource: try attrs.address(RouteAttribute.prefsrc, "RTA_PREFSRC"),
                  protocolNumber: proto,
                  table: try attrs.uint32(RouteAttribute.table, "RTA_TABLE") ?? UInt32(table),
                  priority: try attrs.uint32(RouteAttribute.priority, "RTA_PRIORITY"),
                  mtu: mtu, advertisedMSS: mss)
    }
}
