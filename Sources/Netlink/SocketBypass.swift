#if canImport(Glibc)
import Glibc
import NetTypes
#endif
import KernelModel
import Topology

/// Per-socket IPsec bypass for IKE sockets (see `XfrmSocketPolicy`). The socket is borrowed: its owner
/// (the daemon) keeps it and closes it.
public enum SocketBypass {
    /// Installs inbound and outbound bypass policies on `fd` for `family`.
    public static func install(on fd: Int32, family: IPAddress.Family) throws(NetlinkError) {
        let option = family == .ipv4 ? XfrmSocketPolicy.ipv4Option : XfrmSocketPolicy.ipv6Option
        for direction in [XfrmDirection.inbound, .outbound] {
            let policy = XfrmSocketPolicy.bypass(direction: direction, family: family)
            let rc = policy.withUnsafeBytes { setsockopt(fd, option.level, option.name, $0.baseAddress, socklen_t($0.count)) }
            guard rc == 0 else {
                throw NetlinkError(.system, errno: Glibc.errno, context: "installing \(direction) bypass policy on socket \(fd)")
            }
        }
    }
}
