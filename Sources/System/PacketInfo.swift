import CSystem
import Glibc

// RFC 3542 §6 (IPV6_PKTINFO) and ip(7) IP_PKTINFO: the destination address of a received
// datagram, and the source address of a sent one, as ancillary data.

extension FileDescriptor {
    /// What one `receive(into:source:)` got.
    public struct Datagram: Sendable {
        /// Bytes received (at most the buffer's size).
        public var count: Int
        /// MSG_TRUNC: the datagram was longer than the buffer.
        public var truncated: Bool
        /// The address the datagram was sent to (4 or 16 bytes), when the kernel attached
        /// IP_PKTINFO / IPV6_PKTINFO (the socket must have asked for it).
        public var destination: [UInt8]?
    }

    /// One recvmsg(2) on a UDP socket: the payload into `buffer`, the sender into `source`, and
    /// the datagram's destination address from its packet info.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, source: inout sockaddr_storage) -> Result<Datagram, Errno> {
        let controlSize = viaduct_cmsg_space(max(MemoryLayout<in_pktinfo>.size, MemoryLayout<viaduct_in6_pktinfo>.size))
        var control = [UInt8](repeating: 0, count: Int(controlSize))
        let fd = rawValue
        return control.withUnsafeMutableBytes { ctl in
            withUnsafeMutablePointer(to: &source) { name in
                var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_name = UnsafeMutableRawPointer(name)
                    msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = ctl.baseAddress
                    msg.msg_controllen = ctl.count
                    return Syscall.retrying { recvmsg(fd, &msg, 0) }.map { n in
                        Datagram(count: n, truncated: msg.msg_flags & Int32(MSG_TRUNC) != 0,
                                 destination: Self.packetInfo(&msg))
                    }
                }
            }
        }
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

    /// One sendmsg(2) of `bytes` to `destination` (`length` bytes of it), from local address
    /// `source` (4 bytes: IP_PKTINFO, 16: IPV6_PKTINFO), so a reply leaves from the address the
    /// peer talks to.
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: inout sockaddr_storage, length: socklen_t,
                     from source: [UInt8]) -> Result<Int, Errno> {
        let ipv6 = source.count == 16
        let controlSize = viaduct_cmsg_space(ipv6 ? MemoryLayout<viaduct_in6_pktinfo>.size : MemoryLayout<in_pktinfo>.size)
        var control = [UInt8](repeating: 0, count: Int(controlSize))
        let fd = rawValue
        return control.withUnsafeMutableBytes { ctl in
            withUnsafeMutablePointer(to: &destination) { name in
                var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_name = UnsafeMutableRawPointer(name)
                    msg.msg_namelen = length
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
                            withUnsafeMutableBytes(of: &info.ipi6_addr) { $0.copyBytes(from: source) }
                            UnsafeMutableRawPointer(d).storeBytes(of: info, as: viaduct_in6_pktinfo.self)
                        } else {
                            c.pointee.cmsg_level = Int32(IPPROTO_IP)
                            c.pointee.cmsg_type = IP_PKTINFO
                            c.pointee.cmsg_len = viaduct_cmsg_len(MemoryLayout<in_pktinfo>.size)
                            var info = in_pktinfo()
                            withUnsafeMutableBytes(of: &info.ipi_spec_dst) { $0.copyBytes(from: source) }
                            UnsafeMutableRawPointer(d).storeBytes(of: info, as: in_pktinfo.self)
                        }
                    }
                    return Syscall.retrying { sendmsg(fd, &msg, 0) }
                }
            }
        }
    }
}
