import NetTypes

// RFC 4301 §5.2 note on IKE traffic, linux/xfrm.h + ip(7) IP_XFRM_POLICY / ipv6(7) IPV6_XFRM_POLICY:
// a per-socket policy is a bare struct xfrm_userpolicy_info (168 bytes) given to setsockopt. An ALLOW policy
// with no template makes the socket's own traffic bypass the route-based `0.0.0.0/0` policies, so IKE
// (UDP 500/4500) keeps flowing while the tunnel it negotiates is down. strongSwan does the same.

/// The setsockopt value of a per-socket bypass policy.
public enum XfrmSocketPolicy {
    /// `IP_XFRM_POLICY` (17) at level `SOL_IP` (0), and `IPV6_XFRM_POLICY` (35) at `SOL_IPV6` (41).
    public static let ipv4Option: (level: Int32, name: Int32) = (0, 17)
    public static let ipv6Option: (level: Int32, name: Int32) = (41, 35)

    /// xfrm_userpolicy_info for a bypass (allow, no template) in one direction; the selector carries only the
    /// family. Only `.inbound` and `.outbound` mean anything for a socket.
    ///
    /// Equivalent to what strongSwan's kernel-netlink `bypass_socket()` installs; `ip` has no command for it.
    public static func bypass(direction: XfrmDirection, family: IPAddress.Family) -> [UInt8] {
        let zero = IPPrefix(network: family == .ipv4 ? .v4(0) : .v6(0, 0), length: 0)
        return XfrmPolicy(selector: XfrmSelector(source: zero, destination: zero), direction: direction, action: .allow,
                          priority: 0).info()
    }
}
