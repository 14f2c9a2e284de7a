import Glibc

/// A POSIX error number as a value, so a failed syscall is an error a caller can match on
/// (`.addressNotAvailable`) instead of a global that the next call overwrites.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Reads `errno` right after a failed call; the only place the global is touched.
    static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let protocolOptionUnavailable = Errno(rawValue: ENOPROTOOPT)
    public static let badFileDescriptor = Errno(rawValue: EBADF)

    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: text)) (errno \(rawValue))"
    }
}
