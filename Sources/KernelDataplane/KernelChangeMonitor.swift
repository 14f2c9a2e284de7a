#if canImport(Glibc)
import Glibc
#endif
import KernelModel
import Reconciler

/// Link, address and route notifications (`ip monitor link address route`), read by the
/// executor before it plans against its cache, to notice what others changed since: someone's
/// `ip route del` of a Viaduct route, `ip link del` of its interface. Owns one route socket
/// joined to the groups.
///
/// Not covered (the periodic resync is): XFRM policies, and whatever others change during a
/// large apply of the executor's own (`pause` ... `reset`: its thousands of notifications would
/// cost more to deliver and read than a dump).
final class KernelChangeMonitor {
    private var socket: NetlinkSocket?
    /// Reading more than this many notifications costs more than observing in full.
    static let readLimit = 4096

    init() {
        reset()
    }

    /// Drops whatever is queued and listens afresh; without a socket every check says "changed".
    func reset() {
        socket = nil
        socket = try? NetlinkSocket(.route, groups: KernelNotification.groups)
    }

    /// Stops listening (until `reset`): during a large apply of its own, so the kernel does not
    /// queue thousands of notifications nobody will read.
    func pause() {
        socket = nil
    }

    /// Reads everything queued; true when a notification contradicts `cache`, did not decode, or
    /// was lost (ENOBUFS), or when there were too many to read.
    func sawOutsideChange(to cache: KernelStateCache) -> Bool {
        guard let socket else { return true }
        var read = 0
        var ready = pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 0) > 0 {
            let messages: [NetlinkMessage]
            do { messages = try socket.receive(context: "reading link, address and route notifications") } catch { return true }
            for m in messages {
                read += 1
                if read > Self.readLimit { return true }
                // Other protocols' routes (BIRD's, the kernel's) are not Viaduct's: skip them undecoded.
                if m.type == RouteMessageType.newRoute || m.type == RouteMessageType.deleteRoute,
                   m.payload.count > 5, m.payload[5] != RouteProtocol.viaduct {
                    continue
                }
                do {
                    if let n = try KernelNotification(decoding: m), cache.contradicts(n) { return true }
                } catch {
                    return true
                }
            }
        }
        return false
    }
}
