#if canImport(Glibc)
import Glibc
import NetTypes
#endif
import KernelModel
import Topology

// Typed dumps over a NetlinkSocket: the raw reply messages decoded into KernelModel values. A reply
// that does not decode fails the whole dump with `malformedReply` naming the object type, rather than
// silently leaving an object out (a reconciler that missed an object could recreate it).

extension NetlinkSocket {
    /// Equivalent to: `ip -d link show`.
    public func links() throws(NetlinkError) -> [ObservedLink] {
        try decodeEach(try dump(Link.dumpRequest()), "links") { m throws(NetlinkDecodeError) in try ObservedLink(decoding: m) }
    }

    /// One link by name, nil when there is none (ENODEV).
    ///
    /// Equivalent to: `ip -d link show NAME`.
    public func link(named name: String) throws(NetlinkError) -> ObservedLink? {
        let request: NetlinkRequest
        do { request = try Link.getRequest(name: name) } catch {
            throw NetlinkError(.invalidRequest, context: "looking up link \(name)", kernelMessage: error.description)
        }
        let reply: NetlinkMessage
        do { reply = try query(request) } catch where error.code == .kernel && error.errno == ENODEV {
            return nil
        }
        do { return try ObservedLink(decoding: reply) } catch {
            throw NetlinkError(.malformedReply, context: "looking up link \(name)", kernelMessage: error.description)
        }
    }

    /// Equivalent to: `ip addr show`.
    public func addresses() throws(NetlinkError) -> [LinkAddress] {
        try decodeEach(try dump(LinkAddress.dumpRequest()), "addresses") { m throws(NetlinkDecodeError) in try LinkAddress(decoding: m) }
    }

    /// Equivalent to: `ip route show table all` and `ip -6 route show table all`.
    public func routes() throws(NetlinkError) -> [Route] {
        var all: [Route] = []
        for family in [IPAddress.Family.ipv4, .ipv6] {
            all += try decodeEach(try dump(Route.dumpRequest(family: family)), "routes") { m throws(NetlinkDecodeError) in try Route(decoding: m) }
        }
        return all
    }

    /// Equivalent to: `ip xfrm state list`.
    public func states() throws(NetlinkError) -> [XfrmState] {
        try decodeEach(try dump(XfrmState.dumpRequest()), "SAs") { m throws(NetlinkDecodeError) in try XfrmState(decoding: m) }
    }

    /// Equivalent to: `ip xfrm policy list`.
    public func policies() throws(NetlinkError) -> [XfrmPolicy] {
        try decodeEach(try dump(XfrmPolicy.dumpRequest()).filter { !XfrmPolicy.isPerSocket($0) }, "policies") { m throws(NetlinkDecodeError) in
            try XfrmPolicy(decoding: m)
        }
    }

    private func decodeEach<T>(_ messages: [NetlinkMessage], _ what: String,
                               _ decode: (NetlinkMessage) throws(NetlinkDecodeError) -> T) throws(NetlinkError) -> [T] {
        var out: [T] = []
        for m in messages {
            do { out.append(try decode(m)) } catch {
                throw NetlinkError(.malformedReply, context: "listing \(what)", kernelMessage: error.description)
            }
        }
        return out
    }
}
