import NetTypes

// rtnetlink(7) RTM_GETROUTE without NLM_F_DUMP: the kernel resolves one destination and answers
// with the route it would use (RTM_NEWROUTE: RTA_OIF, and RTA_METRICS with RTAX_MTU when the
// route or a learned path MTU sets one).
extension Route {
    /// Equivalent to: `ip route get ADDRESS`.
    public static func lookupRequest(to destination: IPAddress) -> NetlinkRequest {
        var w = NetlinkWriter()
        w.write(UInt8(truncatingIfNeeded: AddressFamily.of(destination)))
        w.write(UInt8(destination.family == .ipv4 ? 32 : 128))  // rtm_dst_len
        w.writeZeros(10)
        w.attribute(RouteAttribute.dst, destination.bytes)
        return NetlinkRequest(NetlinkMessage(type: RouteMessageType.getRoute, flags: [.request], payload: w.bytes),
                              summary: "looking up the route to \(destination)")
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
