import NetTypes

// rtnetlink(7) RTM_GETROUTE without NLM_F_DUMP: the kernel resolves one destination and answers
// with the route it would use (RTM_NEWROUTE: RTA_OIF, and RTA_METRICS with RTAX_MTU when the
// route or a learned path MTU sets one).
extension Route {
    /// Equivalent to: `ip route get ADDRESS`, or with `source` (the address the packets leave
    /// from, of the same family and not unspecified) `ip route get ADDRESS from SOURCE`, so
    /// that policy routing (`ip rule ... from SOURCE`) picks the route those packets take.
    public static func lookupRequest(to destination: IPAddress, from source: IPAddress? = nil) -> NetlinkRequest {
        let bits = UInt8(destination.family == .ipv4 ? 32 : 128)
        let from = source.flatMap { $0.family == destination.family && $0 != .v4(0) && $0 != .v6(0, 0) ? $0 : nil }
        var w = NetlinkWriter()
        w.write(UInt8(truncatingIfNeeded: AddressFamily.of(destination)))
        w.write(bits)  // rtm_dst_len
        w.write(from == nil ? 0 : bits)  // rtm_src_len
        w.writeZeros(9)
        w.attribute(RouteAttribute.dst, destination.bytes)
        if let from { w.attribute(RouteAttribute.src, from.bytes) }
        return NetlinkRequest(NetlinkMessage(type: RouteMessageType.getRoute, flags: [.request], payload: w.bytes),
                              summary: "looking up the route to \(destination)" + (from.map { " from \($0)" } ?? ""))
    }
}

extension Link {
    /// RTM_GETLINK for one link by index.
    ///
    /// Equivalent to: `ip link show dev NAME` for the interface numbered `index`.
    public static func getRequest(index: Int32) -> NetlinkRequest {
        NetlinkRequest(NetlinkMessage(type: RouteMessageType.getLink, flags: [.request],
                                      payload: ifinfomsg(index: index, flags: 0, change: 0)),
                       summary: "looking up link \(index)")
    }
}
