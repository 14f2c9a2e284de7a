#if canImport(Glibc)
import Glibc
#endif
import KernelModel
import System

// linux/xfrm.h XFRMNLGRP_EXPIRE / XFRMNLGRP_ACQUIRE: the kernel multicasts SA expiries (soft: rekey,
// hard: gone) and acquires to every NETLINK_XFRM socket that joined those groups. A dedicated socket keeps
// notifications from interleaving with the replies of a request socket.

/// A NETLINK_XFRM socket subscribed to expire and acquire notifications.
public final class XfrmMonitor {
    private let socket: NetlinkSocket

    public init() throws(NetlinkError) {
        socket = try NetlinkSocket(.xfrm, groups: [XfrmMulticastGroup.expire, XfrmMulticastGroup.acquire])
    }

    /// The descriptor to poll for readability; owned by the monitor.
    public var fileDescriptor: Int32 { socket.fileDescriptor }

    /// Waits up to `timeoutMilliseconds` for notifications and returns those that arrived (possibly none).
    /// A notification that does not decode is returned as an error value in place, not thrown, so one bad
    /// message cannot hide the others.
    public func next(timeoutMilliseconds: Int32) throws(NetlinkError) -> [Result<XfrmEvent, NetlinkDecodeError>] {
        var pfd = pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, timeoutMilliseconds)
        if ready < 0 {
            let e = Errno.current
            if e == .interrupted { return [] }
            throw NetlinkError(.system, errno: e.rawValue, context: "waiting for XFRM notifications")
        }
        if ready == 0 { return [] }
        return try socket.receive(context: "reading XFRM notifications").map { message in
            Result { () throws(NetlinkDecodeError) -> XfrmEvent in try XfrmEvent(decoding: message) }
        }
    }
}
