import CSystem
import Glibc

/// Per-socket IPsec bypass policies: IKE traffic must never be caught by Viaduct's own
/// route-based `0.0.0.0/0 ⇄ 0.0.0.0/0` (and `::/0`) XFRM policies, or the first rekey after a
/// tunnel comes up would try to encrypt IKE inside the SA it is negotiating. A socket policy
/// (setsockopt IP_XFRM_POLICY / IPV6_XFRM_POLICY with an `xfrm_userpolicy_info`) takes
/// precedence over the SPD for that socket alone. This is what strongSwan's kernel-netlink
/// `bypass_socket()` does: a zeroed selector of the socket's family, action ALLOW, one policy
/// per direction. The program's one installer of them.
///
/// Equivalent to: nothing in iproute2 (socket policies are invisible to `ip xfrm policy`).
public enum XfrmSocketBypass {
    /// What happened, for the log.
    public enum Outcome: Equatable, Sendable {
        case installed
        /// The kernel was built without XFRM (ENOPROTOOPT): there is no SPD to bypass.
        case unsupported
    }

    /// The direction whose policy the kernel refused, and why.
    public struct Failure: Error, Sendable {
        /// "in" or "out".
        public var direction: String
        public var errno: Errno
    }

    /// Installs the inbound and outbound ALLOW policy on `socket` (of family AF_INET6 when
    /// `ipv6`, else AF_INET). The socket is borrowed: its owner keeps and closes it.
    public static func install(on socket: Int32, ipv6: Bool) throws(Failure) -> Outcome {
        let level = ipv6 ? Int32(IPPROTO_IPV6) : Int32(IPPROTO_IP)
        let option = ipv6 ? viaduct_ipv6_xfrm_policy : viaduct_ip_xfrm_policy
        for direction in [XFRM_POLICY_IN, XFRM_POLICY_OUT] {
            var policy = xfrm_userpolicy_info()
            policy.action = UInt8(truncatingIfNeeded: XFRM_POLICY_ALLOW)
            policy.sel.family = UInt16(ipv6 ? AF_INET6 : AF_INET)
            policy.dir = UInt8(truncatingIfNeeded: direction)
            let r = withUnsafeBytes(of: policy) { raw in
                Syscall.check { setsockopt(socket, level, option, raw.baseAddress, socklen_t(raw.count)) }
            }
            if case .failure(let e) = r {
                if e == .protocolOptionUnavailable { return .unsupported }
                throw Failure(direction: direction == XFRM_POLICY_IN ? "in" : "out", errno: e)
            }
        }
        return .installed
    }
}
