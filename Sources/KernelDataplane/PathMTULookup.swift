#if canImport(Glibc)
import Glibc
#endif
import KernelModel
import NetTypes

extension NetlinkSocket {
    /// The underlay path MTU towards `destination`: the MTU of the route the kernel would use
    /// (RTAX_MTU: a configured `mtu` or a learned path MTU), else the MTU of that route's output
    /// interface. Nil when there is no route or the link reports no MTU.
    ///
    /// `source`: the local address the packets leave from (IKE and ESP: the tunnel's local
    /// address), so that policy routing (`ip rule from SOURCE`) is followed; nil or unspecified
    /// (a wildcard-bound end) asks for the main lookup as before.
    ///
    /// Equivalent to: `ip route get DESTINATION [from SOURCE]`, then `ip link show dev OIF`.
    public func pathMTU(to destination: IPAddress, from source: IPAddress? = nil) throws(NetlinkError) -> Int? {
        let reply: NetlinkMessage
        do { reply = try query(Route.lookupRequest(to: destination, from: source)) } catch where error.code == .kernel {
            return nil  // ENETUNREACH, EHOSTUNREACH: no route
        }
        let route: Route
        do { route = try Route(decoding: reply) } catch {
            throw NetlinkError(.malformedReply, context: "looking up the route to \(destination)", kernelMessage: error.description)
        }
        if let mtu = route.mtu, mtu > 0 { return Int(mtu) }
        guard route.outputInterface > 0 else { return nil }
        let linkReply: NetlinkMessage
        do { linkReply = try query(Link.getRequest(index: route.outputInterface)) } catch where error.code == .kernel && error.errno == ENODEV {
            return nil
        }
        do {
            return try ObservedLink(decoding: linkReply).link.mtu.map(Int.init)
        } catch {
            throw NetlinkError(.malformedReply, context: "looking up link \(route.outputInterface)", kernelMessage: error.description)
        }
    }
}
