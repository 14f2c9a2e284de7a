import KernelModel
import NetTypes
import System
import Topology

/// Per-socket IPsec bypass for IKE sockets (see `XfrmSocketPolicy`), through System's one
/// installer (`XfrmSocketBypass`). The socket is borrowed: its owner (the daemon) keeps it and
/// closes it.
public enum SocketBypass {
    /// Installs inbound and outbound bypass policies on `fd` for `family`.
    public static func install(on fd: Int32, family: IPAddress.Family) throws(NetlinkError) {
        let outcome: XfrmSocketBypass.Outcome
        do throws(XfrmSocketBypass.Failure) {
            outcome = try XfrmSocketBypass.install(on: fd, ipv6: family == .ipv6)
        } catch {
            let direction = error.direction == "in" ? XfrmDirection.inbound : .outbound
            throw NetlinkError(.system, errno: error.errno.rawValue, context: "installing \(direction) bypass policy on socket \(fd)")
        }
        if outcome == .unsupported {
            throw NetlinkError(.system, errno: Errno.protocolOptionUnavailable.rawValue,
                               context: "installing \(XfrmDirection.inbound) bypass policy on socket \(fd)")
        }
    }
}
