import Glibc
import System

/// systemd's readiness protocol (sd_notify(3), `Type=notify`) spoken by hand: one datagram of
/// `KEY=value` lines to the Unix socket named by `$NOTIFY_SOCKET`, which may be a path or an
/// abstract socket (`@name`). Done by hand so the daemon needs no libsystemd; the socket value
/// is injected so tests use a socket of their own and never touch the process environment.
/// Without `$NOTIFY_SOCKET` (not started by systemd) every call does nothing. Failures to send
/// are ignored, as sd_notify's callers do: readiness is advice, not a reason to stop. Owns its
/// datagram socket.
public final class SystemdNotifier {
    private var file: FileDescriptor?
    private var descriptor: Int32 { file?.rawValue ?? -1 }
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// The notify socket, as given (`/run/systemd/notify` or `@name`); nil when not under systemd.
    public let socketName: String?

    /// - Parameter notifySocket: the value of `$NOTIFY_SOCKET`, or nil.
    public init(notifySocket: String?) {
        guard let name = notifySocket, let first = name.utf8.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@") else {
            socketName = nil
            return
        }
        var bytes = Array(name.utf8)
        // An abstract socket's name starts with a NUL byte in sun_path (unix(7)); '@' stands for it.
        if first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity, bytes.count > 1 else {
            socketName = nil
            return
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        // Abstract names are exactly as long as given (no trailing NUL); paths are NUL-terminated.
        let pathOffset = MemoryLayout<sa_family_t>.size
        addressLength = socklen_t(pathOffset + bytes.count + (first == UInt8(ascii: "@") ? 0 : 1))
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if case .success(let fd) = Syscall.retrying({ socket(AF_UNIX, type, 0) }) {
            file = FileDescriptor(taking: fd)
            socketName = name
        } else {
            socketName = nil
        }
    }

    /// Convenience for `viaduct run`: reads `$NOTIFY_SOCKET`.
    public static func fromEnvironment() -> SystemdNotifier {
        SystemdNotifier(notifySocket: getenv("NOTIFY_SOCKET").map { String(cString: $0) })
    }

    deinit { close() }

    public var isActive: Bool { descriptor >= 0 }

    public func close() {
        guard file != nil else { return }
        file = nil
    }

    /// Sends one message (the fields joined by newlines); false when there is no socket or the
    /// send failed.
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        guard descriptor >= 0, !fields.isEmpty else { return false }
        let bytes = Array(fields.joined(separator: "\n").utf8)
        let fd = descriptor
        let length = addressLength
        let r = withUnsafePointer(to: address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { raw in
                    Syscall.retrying { sendto(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), sa, length) }
                }
            }
        }
        if case .success = r { return true }
        return false
    }

    /// The service is up: sockets open, kernel state reconciled.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=" + Self.oneLine($0)] } ?? []))
    }

    /// A line `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool { send(["STATUS=" + Self.oneLine(text)]) }

    /// A reload started; systemd wants the CLOCK_MONOTONIC time with it (`Type=notify-reload`
    /// requires it, `Type=notify` accepts it) so it can tell this reload from an older one.
    @discardableResult
    public func reloading(monotonicMicroseconds: UInt64) -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds)"])
    }

    @discardableResult
    public func stopping() -> Bool { send(["STOPPING=1"]) }

    /// CLOCK_MONOTONIC in microseconds, as `MONOTONIC_USEC` expects.
    public static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
    }

    /// A field value may not contain a newline: it would start another field.
    static func oneLine(_ s: String) -> String {
        String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
