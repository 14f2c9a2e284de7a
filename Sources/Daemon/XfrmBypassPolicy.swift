import CLinuxShims
import Glibc

/// Per-socket IPsec bypass policies: IKE traffic must never be caught by Viaduct's own
/// route-based `0.0.0.0/0 ⇄ 0.0.0.0/0` (and `::/0`) XFRM policies, or the first rekey after a
/// tunnel comes up would try to encrypt IKE inside the SA it is negotiating. A socket policy
/// (setsockopt IP_XFRM_POLICY / IPV6_XFRM_POLICY with an `xfrm_userpolicy_info`) takes
/// precedence over the SPD for that socket alone. This is what strongSwan's kernel-netlink
/// `bypass_socket()` does: a zeroed selector of the socket's family, action ALLOW, one policy
/// per direction.
///
/// Equivalent to: nothing in iproute2 (socket policies are invisible to `ip xfrm policy`).
public enum XfrmBypassPolicy {
    /// What happened, for the log.
    public enum Outcome: Equatable, Sendable {
        case installed
        /// The kernel was built without XFRM (ENOPROTOOPT): there is no SPD to bypass.
        case unsupported
    }

    /// Installs the inbound and outbound ALLOW policy on `socket`.
    public static func install(on socket: UDPSocket) throws(DaemonError) -> Outcome {
        let ipv6 = socket.local.isIPv6
        let level = ipv6 ? Int32(IPPROTO_IPV6) : Int32(IPPROTO_IP)
        let option = ipv6 ? viaduct_ipv6_xfrm_policy : viaduct_ip_xfrm_policy
        for direction in [XFRM_POLICY_IN, XFRM_POLICY_OUT] {
            var policy = xfrm_userpolicy_info()
            policy.action = UInt8(truncatingIfNeeded: XFRM_POLICY_ALLOW)
            policy.sel.family = UInt16(ipv6 ? AF_INET6 : AF_INET)
            policy.dir = UInt8(truncatingIfNeeded: direction)
            do {
                try socket.setOption(level, option, policy, ipv6 ? "IPV6_XFRM_POLICY" : "IP_XFRM_POLICY")
            } catch {
                if error.errno == .protocolOptionUnavailable { return .unsupported }
                let label = direction == XFRM_POLICY_IN ? "in" : "out"
                throw DaemonError(error.code == .permissionDenied ? .permissionDenied : .bypassPolicy,
                                  "cannot install the IPsec bypass policy (dir \(label)) on the IKE socket \(socket.local): \(error.errno.map(\.description) ?? error.message); CAP_NET_ADMIN is required",
                                  errno: error.errno)
            }
        }
        return .installed
    }
}
