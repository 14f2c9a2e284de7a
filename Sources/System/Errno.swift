import Glibc

/// A POSIX error number as a value, so a failed syscall is an error a caller can match on
/// (`.addressNotAvailable`) instead of a global that the next call overwrites. The only errno
/// type of the program: the daemon's, the data plane's and the netlink layer's errors are built
/// from it.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Reads `errno` right after a failed call; the only place the global is touched.
    @inlinable
    public static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let protocolOptionUnavailable = Errno(rawValue: ENOPROTOOPT)
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    public static let invalidArgument = Errno(rawValue: EINVAL)

    /// EAGAIN / EWOULDBLOCK (the same number on Linux): nothing to read, or no room to write.
    @inlinable
    public var isWouldBlock: Bool { rawValue == EAGAIN || rawValue == EWOULDBLOCK }

    /// EPERM or EACCES: the caller lacks a capability (CAP_NET_ADMIN, root).
    public var isPermission: Bool { rawValue == EPERM || rawValue == EACCES }

    /// The C library's text ("Operation not permitted").
    public var text: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }

    public var description: String { "\(text) (errno \(rawValue))" }
}
