import Dataplane
import Glibc
import System
import IKEv2

/// A non-blocking UDP socket bound to one local address and port, and the only owner of its
/// file descriptor: `close()` closes it exactly once (later calls do nothing), and `deinit`
/// closes it if nobody did. Receives report the datagram's destination address (IP_PKTINFO /
/// IPV6_RECVPKTINFO), and sends choose their source address the same way, so replies always
/// leave from the address the peer talks to.
public final class UDPSocket {
    private var file: FileDescriptor?
    public var descriptor: Int32 { file?.rawValue ?? -1 }
    public let local: IKEEndpoint

    /// One received datagram: the payload and both endpoints.
    public struct Received {
        public var bytes: [UInt8]
        public var source: IKEEndpoint
        public var destination: IKEEndpoint
    }

    /// Opens and binds. Errors name the address, with the reason a human can act on.
    public init(binding local: IKEEndpoint) throws(DaemonError) {
        guard local.address.count == 4 || local.address.count == 16, let address = SocketAddress(local) else {
            throw DaemonError(.configuration, "cannot bind \(local): not an IPv4 or IPv6 address")
        }
        let family = local.isIPv6 ? AF_INET6 : AF_INET
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd: Int32
        switch Syscall.retrying({ socket(family, type, Int32(IPPROTO_UDP)) }) {
        case .success(let f): fd = f
        case .failure(let e): throw DaemonError(.system, "socket() for \(local) failed: \(e)", errno: e)
        }
        file = FileDescriptor(taking: fd)
        self.local = local
        do throws(DaemonError) {
            if local.isIPv6 {
                try setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1), "IPV6_V6ONLY")
                try setOption(Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, Int32(1), "IPV6_RECVPKTINFO")
            } else {
                try setOption(Int32(IPPROTO_IP), IP_PKTINFO, Int32(1), "IP_PKTINFO")
            }
            let bound = address.withSockaddr { sa, len in Syscall.check { bind(fd, sa, len) } }
            if case .failure(let e) = bound { throw Self.bindError(local, e) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the descriptor once; safe to call again.
    public func close() {
        guard file != nil else { return }
        file = nil
    }

    /// A second owner of this socket (dup(2), close-on-exec), e.g. for a data plane that reads it.
    public func duplicate() throws(Errno) -> FileDescriptor {
        guard let file else { throw Errno.badFileDescriptor }
        return try file.duplicate()
    }

    /// setsockopt with a value type; the error names the option.
    public func setOption<T>(_ level: Int32, _ name: Int32, _ value: T, _ label: String) throws(DaemonError) {
        let fd = descriptor
        let r = withUnsafeBytes(of: value) { raw in
            Syscall.check { setsockopt(fd, level, name, raw.baseAddress, socklen_t(raw.count)) }
        }
        if case .failure(let e) = r {
            let code: DaemonError.Code = (e == .notPermitted || e == .permissionDenied) ? .permissionDenied : .system
            throw DaemonError(code, "setsockopt(\(label)) on \(local) failed: \(e)", errno: e)
        }
    }

    static func bindError(_ local: IKEEndpoint, _ e: Errno) -> DaemonError {
        let addr = local.addressText
        switch e {
        case .addressNotAvailable:
            return DaemonError(.addressNotConfigured,
                               "cannot bind UDP port \(local.port) on \(addr): the address is not configured on this host (add it to an interface, or fix the gateway's 'address' in the topology)",
                               errno: e)
        case .addressInUse:
            return DaemonError(.portInUse,
                               "cannot bind UDP port \(local.port) on \(addr): the port is in use (is another IKE daemon such as charon running?)",
                               errno: e)
        case .permissionDenied, .notPermitted:
            return DaemonError(.permissionDenied,
                               "cannot bind UDP port \(local.port) on \(addr): permission denied (run as root or with CAP_NET_BIND_SERVICE)",
                               errno: e)
        default:
            return DaemonError(.system, "cannot bind UDP port \(local.port) on \(addr): \(e)", errno: e)
        }
    }

    /// One recvmsg(2). `nil` when nothing is queued (EAGAIN). Datagrams longer than `capacity`
    /// are reported truncated (MSG_TRUNC) as an error so they are counted, never half-parsed.
    public func receive(capacity: Int = 65_536) throws(DaemonError) -> Received? {
        guard let file else { throw DaemonError(.system, "recvmsg on \(local) failed: \(Errno.badFileDescriptor)", errno: .badFileDescriptor) }
        var buffer = [UInt8](repeating: 0, count: capacity)
        var peer = SocketAddress()
        let result = buffer.withUnsafeMutableBytes { data in file.receive(into: data, source: &peer.storage) }
        let datagram: FileDescriptor.Datagram
        switch result {
        case .success(let d): datagram = d
        case .failure(let e) where e == .wouldBlock: return nil
        case .failure(let e): throw DaemonError(.system, "recvmsg on \(local) failed: \(e)", errno: e)
        }
        let count = datagram.count
        let destination = datagram.destination
        guard !datagram.truncated else {
            throw DaemonError(.system, "datagram on \(local) longer than \(capacity) bytes, dropped")
        }
        guard let source = peer.endpoint else {
            throw DaemonError(.system, "datagram on \(local) from an unknown address family, dropped")
        }
        buffer.removeSubrange(count...)
        let to = IKEEndpoint(address: destination ?? local.address, port: local.port)
        return Received(bytes: buffer, source: source, destination: to)
    }

    /// One sendmsg(2) from `source` (this socket's address; the PKTINFO makes it explicit) to
    /// `destination`. EAGAIN is reported as an error: IKE retransmits, so dropping is safe.
    public func send(_ bytes: [UInt8], to destination: IKEEndpoint) throws(DaemonError) {
        guard destination.address.count == local.address.count, let to = SocketAddress(destination) else {
            throw DaemonError(.configuration, "cannot send from \(local) to \(destination): address families differ")
        }
        guard let file else { throw DaemonError(.system, "sendmsg from \(local) to \(destination) failed: \(Errno.badFileDescriptor)", errno: .badFileDescriptor) }
        var dest = to
        let result = bytes.withUnsafeBytes { data in file.send(data, to: &dest.storage, length: to.length, from: local.address) }
        if case .failure(let e) = result {
            throw DaemonError(.system, "sendmsg from \(local) to \(destination) failed: \(e)", errno: e)
        }
    }
}
