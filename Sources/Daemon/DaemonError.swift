import DataplaneContract
import System

/// Why the daemon could not start or stopped, with a stable `code` for tests and scripts and
/// a message that names the file, address or peer concerned.
public struct DaemonError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The node's underlay address is not configured on any interface (bind: EADDRNOTAVAIL).
        case addressNotConfigured = "address-not-configured"
        /// Another process holds the IKE port (bind: EADDRINUSE), e.g. a running charon.
        case portInUse = "port-in-use"
        /// Missing privilege: ports below 1024 or XFRM socket policies need root / CAP_NET_ADMIN.
        case permissionDenied = "permission-denied"
        /// The per-socket IPsec bypass policy could not be installed.
        case bypassPolicy = "bypass-policy"
        /// Any other socket/poll/signal syscall failure.
        case system = "system"
        /// Credentials (key, certificate, CA, CRL) could not be loaded.
        case credentials = "credentials"
        /// The plan cannot be turned into IKE sessions (unsupported address family, no address).
        case configuration = "configuration"
        /// The data plane refused or failed (a TUN device, an SA it cannot carry).
        case dataplane = "dataplane"
    }

    public var code: Code
    public var message: String
    public var errno: Errno?

    public init(_ code: Code, _ message: String, errno: Errno? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
}

extension DaemonError {
    /// A data plane's error, with what the daemon was doing.
    static func dataplane(_ e: DataplaneError, _ context: String) -> DaemonError {
        DaemonError(e.context(context))
    }

    /// A data plane's error at the daemon's boundary: its message as it is.
    init(_ e: DataplaneError) {
        self.init(.dataplane, e.message)
    }
}

extension DataplaneError {
    /// A daemon error inside a data plane backend (the kernel sync), with its message as it is.
    init(_ e: DaemonError) {
        self.init(.system, e.message, errno: e.errno?.rawValue)
    }
}
