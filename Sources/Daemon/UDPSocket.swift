import CLinuxShims
import Dataplane
import Glibc
import IKEv2

/// A non-blocking UDP socket bound to one local address and port, and the only owner of its
/// file descriptor: `close()` closes it exactly once (later calls do nothing), and `deinit`
/// closes it if nobody did. Receives report the datagram's destination address (IP_PKTINFO /
/// IPV6_RECVPKTINFO), and sends choose their source address the same way, so replies always
/// leave from the address the peer talks to.
public final class UDPSocket {
    public private(set) var descriptor: Int32
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
        descriptor = fd
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
        guard descriptor >= 0 else { return }
        _ = Syscall.close(descriptor)
        descriptor = -1
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
        var buffer = [UInt8](repeating: 0, count: capacity)
        var peer = SocketAddress()
        let controlSize = viaduct_cmsg_space(max(MemoryLayout<in_pktinfo>.size, MemoryLayout<viaduct_in6_pktinfo>.size))
        var control = [UInt8](repeating: 0, count: Int(controlSize))
        let fd = descriptor
        var destination: [UInt8]? = nil
        var flags: Int32 = 0
        let result: Result<Int, Errno> = buffer.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                withUnsafeMutablePointer(to: &peer.storage) { name in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovp in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(name)
                        msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        msg.msg_iov = iovp
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        let r = Syscall.retrying { recvmsg(fd, &msg, 0) }
                        if case .success = r {
                            flags = msg.msg_flags
                            destination = Self.packetInfo(&msg)
                        }
                        return r
                    }
                }
            }
        }
        let count: Int
        switch result {
        case .success(let n): count = n
        case .failure(let e) where e == .wouldBlock: return nil
        case .failure(let e): throw DaemonError(.system, "recvmsg on \(local) failed: \(e)", errno: e)
        }
        guard flags & Int32(MSG_TRUNC) == 0 else {
            throw DaemonError(.system, "datagram on \(local) longer than \(capacity) bytes, dropped")
        }
        guard let source = peer.endpoint else {
            throw DaemonError(.system, "datagram on \(local) from an unknown address family, dropped")
        }
        buffer.removeSubrange(count...)
        let to = IKEEndpoint(address: destination ?? local.address, port: local.port)
        return Received(bytes: buffer, source: source, destination: to)
    }

    /// The destination address from IP_PKTINFO / IPV6_PKTINFO, if the kernel attached one.
    private static func packetInfo(_ msg: inout msghdr) -> [UInt8]? {
        var cmsg = viaduct_cmsg_firsthdr(&msg)
        while let c = cmsg {
            let level = c.pointee.cmsg_level
            let type = c.pointee.cmsg_type
            if level == Int32(IPPROTO_IP) && type == IP_PKTINFO,
               c.pointee.cmsg_len >= viaduct_cmsg_len(MemoryLayout<in_pktinfo>.size), let data = viaduct_cmsg_data(c) {
                let info = UnsafeRawPointer(data).loadUnaligned(as: in_pktinfo.self)
                return withUnsafeBytes(of: info.ipi_addr) { Array($0) }
            }
            if level == Int32(IPPROTO_IPV6) && type == IPV6_PKTINFO,
               c.pointee.cmsg_len >= viaduct_cmsg_len(MemoryLayout<viaduct_in6_pktinfo>.size), let data = viaduct_cmsg_data(c) {
                let info = UnsafeRawPointer(data).loadUnaligned(as: viaduct_in6_pktinfo.self)
                return withUnsafeBytes(of: info.ipi6_addr) { Array($0) }
            }
            cmsg = viaduct_cmsg_nxthdr(&msg, c)
        }
        return nil
    }

    /// One sendmsg(2) from `source` (this socket's address; the PKTINFO makes it explicit) to
    /// `destination`. EAGAIN is reported as an error: IKE retransmits, so dropping is safe.
    public func send(_ bytes: [UInt8], to destination: IKEEndpoint) throws(DaemonError) {
        guard destination.address.count == local.address.count, let to = SocketAddress(destination) else {
            throw DaemonError(.configuration, "cannot send from \(local) to \(destination): address families differ")
        }
        let fd = descriptor
        let ipv6 = local.isIPv6
        let src = local.address
        let controlSize = viaduct_cmsg_space(ipv6 ? MemoryLayout<viaduct_in6_pktinfo>.size : MemoryLayout<in_pktinfo>.size)
        var control = [UInt8](repeating: 0, count: Int(controlSize))
        var payload = bytes
        var dest = to
        let result: Result<Int, Errno> = payload.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                withUnsafeMutablePointer(to: &dest.storage) { name in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovp in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(name)
                        msg.msg_namelen = to.length
                        msg.msg_iov = iovp
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        if let c = viaduct_cmsg_firsthdr(&msg), let d = viaduct_cmsg_data(c) {
                            if ipv6 {
                                c.pointee.cmsg_level = Int32(IPPROTO_IPV6)
                                c.pointee.cmsg_type = IPV6_PKTINFO
                                c.pointee.cmsg_len = viaduct_cmsg_len(MemoryLayout<viaduct_in6_pktinfo>.size)
                                var info = viaduct_in6_pktinfo()
                                withUnsafeMutableBytes(of: &info.ipi6_addr) { $0.copyBytes(from: src) }
                                UnsafeMutableRawPointer(d).storeBytes(of: info, as: viaduct_in6_pktinfo.self)
                            } else {
                                c.pointee.cmsg_level = Int32(IPPROTO_IP)
                                c.pointee.cmsg_type = IP_PKTINFO
                                c.pointee.cmsg_len = viaduct_cmsg_len(MemoryLayout<in_pktinfo>.size)
                                var info = in_pktinfo()
                                withUnsafeMutableBytes(of: &info.ipi_spec_dst) { $0.copyBytes(from: src) }
                                UnsafeMutableRawPointer(d).storeBytes(of: info, as: in_pktinfo.self)
                            }
                        }
                        return Syscall.retrying { sendmsg(fd, &msg, 0) }
                    }
                }
            }
        }
        if case .failure(let e) = result {
            throw DaemonError(.system, "sendmsg from \(local) to \(destination) failed: \(e)", errno: e)
        }
    }
}
