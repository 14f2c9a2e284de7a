import System

/// Per-socket IPsec bypass policies on the daemon's IKE sockets, through System's one installer
/// (`XfrmSocketBypass`, which says why IKE must bypass Viaduct's own `0/0` policies).
///
/// Equivalent to: nothing in iproute2 (socket policies are invisible to `ip xfrm policy`).
public enum XfrmBypassPolicy {
    /// What happened, for the log.
    public typealias Outcome = XfrmSocketBypass.Outcome

    /// Installs the inbound and outbound ALLOW policy on `socket`.
    public static func install(on socket: UDPSocket) throws(DaemonError) -> Outcome {
        let ipv6 = socket.local.isIPv6
        do throws(XfrmSocketBypass.Failure) {
            return try XfrmSocketBypass.install(on: socket.descriptor, ipv6: ipv6)
        } catch {
            let e = error.errno
            let code: DaemonError.Code = (e == .notPermitted || e == .permissionDenied) ? .permissionDenied : .bypassPolicy
            throw DaemonError(code,
                              "cannot install the IPsec bypass policy (dir \(error.direction)) on the IKE socket \(socket.local): \(e); CAP_NET_ADMIN is required",
                              errno: e)
        }
    }
}
