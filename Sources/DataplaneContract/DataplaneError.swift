import System

/// Why a data plane (userspace or kernel) refused a request or could not set up a device: a stable `code`
/// that tests and the daemon compare, a sentence for the operator, and the errno when a system
/// call failed.
///
/// Only control-plane paths (opening devices, installing SAs) throw these. The packet path never
/// throws to its caller: a bad packet is a counter, not an error.
public struct DataplaneError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A system call failed (the errno says which way).
        public static let system = Code(rawValue: "system")
        /// Not allowed: opening /dev/net/tun or binding port 4500 needs CAP_NET_ADMIN / root.
        public static let permissionDenied = Code(rawValue: "permission-denied")
        /// The peer has no TUN device in this data plane (call `addPeer` first).
        public static let unknownPeer = Code(rawValue: "unknown-peer")
        /// A peer with this name already exists.
        public static let duplicatePeer = Code(rawValue: "duplicate-peer")
        /// The interface name is empty, too long (IFNAMSIZ - 1 = 15 bytes) or contains a '/' or NUL.
        public static let invalidInterfaceName = Code(rawValue: "invalid-interface-name")
        /// The Child SA cannot be carried here (not an AEAD, ESP not in UDP, address family, ...).
        public static let unsupportedSA = Code(rawValue: "unsupported-sa")
        /// The ESP layer refused the SA parameters.
        public static let invalidSA = Code(rawValue: "invalid-sa")
        /// No SA with this SPI is installed.
        public static let unknownSPI = Code(rawValue: "unknown-spi")
        /// The plan asks for what this data plane cannot do without a restart (a local address it
        /// does not listen on).
        public static let configuration = Code(rawValue: "configuration")
        /// The network namespace could not be entered (tests and the benchmark only).
        public static let namespace = Code(rawValue: "namespace")
    }

    public var code: Code
    public var message: String
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// A failed system call: `code` (`.permissionDenied` for EPERM/EACCES unless given) and System's errno.
    public init(_ code: Code? = nil, _ message: String, _ errno: Errno) {
        self.init(code ?? (errno.isPermission ? .permissionDenied : .system), message, errno: errno.rawValue)
    }

    public var description: String {
        if let errno { return "\(code): \(message) (errno \(errno): \(Errno(rawValue: errno).text))" }
        return "\(code): \(message)"
    }
}

extension DataplaneError {
    /// This error as a backend reports it to the daemon: what it was doing, then the code, the
    /// message and the errno, all in `message` (the code and errno stay).
    public func context(_ context: String) -> DataplaneError {
        DataplaneError(code, "\(context): \(code): \(message)\(errno.map { " (errno \($0))" } ?? "")", errno: errno)
    }
}
