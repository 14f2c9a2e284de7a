import Daemon
import Glibc
import System

/// The client side of the control protocol, for `viaduct status` and `viaduct events`: a
/// blocking connection that sends one request and reads reply lines. Owns its fd.
public final class ControlClient {
    private var file: FileDescriptor?
    private var descriptor: Int32 { file?.rawValue ?? -1 }
    private var pending: [UInt8] = []
    public let path: String

    public init(path: String) throws(DaemonError) {
        let address = try UnixSocketAddress(path: path)
        self.path = path
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        switch Syscall.retrying({ socket(AF_UNIX, type, 0) }) {
        case .success(let fd): file = FileDescriptor(taking: fd)
        case .failure(let e): throw DaemonError(.system, "socket(AF_UNIX) failed: \(e)", errno: e)
        }
        let fd = descriptor
        if case .failure(let e) = address.withSockaddr({ sa, len in Syscall.check { connect(fd, sa, len) } }) {
            close()
            switch e.rawValue {
            case ENOENT, ECONNREFUSED:
                throw DaemonError(.configuration, "no viaduct daemon is listening on \(path) (is 'viaduct run' running for this node? pick the socket with --socket)", errno: e)
            case EACCES, EPERM:
                throw DaemonError(.permissionDenied, "cannot connect to \(path): \(e) (the control socket is root-only)", errno: e)
            default:
                throw DaemonError(.system, "cannot connect to \(path): \(e)", errno: e)
            }
        }
    }

    deinit { close() }

    public func close() {
        guard file != nil else { return }
        file = nil
    }

    public func send(_ request: ControlMessage.Request) throws(DaemonError) {
        var bytes = ControlMessage.encodeLine(request)[...]
        let fd = descriptor
        while !bytes.isEmpty {
            let r = bytes.withUnsafeBytes { raw in Syscall.retrying { Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) } }
            switch r {
            case .success(let n): bytes = bytes.dropFirst(n)
            case .failure(let e): throw DaemonError(.system, "cannot write to \(path): \(e)", errno: e)
            }
        }
    }

    /// The next reply line, nil when the daemon closed the connection. With `timeoutSeconds`,
    /// a daemon that sends nothing for that long (a stuck daemon, a process that accepted the
    /// connection and never answers) is an error instead of a command that hangs for ever;
    /// without, it waits (`viaduct events` streams for as long as the daemon runs).
    public func readReply(timeoutSeconds: Double? = nil) throws(DaemonError) -> ControlMessage.Reply? {
        var buf = [UInt8](repeating: 0, count: 65536)
        let fd = descriptor
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                guard let reply = ControlMessage.decode(ControlMessage.Reply.self, line: line) else {
                    throw DaemonError(.system, "the daemon at \(path) sent a line that is not a control reply")
                }
                return reply
            }
            if let timeoutSeconds, try !readable(within: timeoutSeconds) {
                throw DaemonError(.system, "the daemon at \(path) did not answer within \(Int(timeoutSeconds.rounded(.up))) s (is it stuck? its log says more: journalctl -u 'viaduct@*')")
            }
            let r = buf.withUnsafeMutableBytes { raw in Syscall.retrying { Glibc.read(fd, raw.baseAddress, raw.count) } }
            switch r {
            case .success(0): return nil
            case .success(let n): pending += buf[0..<n]
            case .failure(let e): throw DaemonError(.system, "cannot read from \(path): \(e)", errno: e)
            }
            if pending.count > 64 << 20 { throw DaemonError(.system, "the daemon at \(path) sent an oversized reply") }
        }
    }

    /// Whether the socket has something to read (or was closed) within `seconds`.
    private func readable(within seconds: Double) throws(DaemonError) -> Bool {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        let milliseconds = Int32(min(max(seconds, 0) * 1000, Double(Int32.max)).rounded(.up))
        switch Syscall.retrying({ poll(&fds, 1, milliseconds) }) {
        case .success(let n): return n > 0
        case .failure(let e): throw DaemonError(.system, "cannot wait for \(path): \(e)", errno: e)
        }
    }
}

extension ControlClient {
    /// How long a command waits for the daemon's answer: an apply of thousands of tunnels
    /// takes a second or two; a daemon silent for a minute is stuck.
    public static let replyTimeoutSeconds: Double = 60

    /// One request, its reply; a refusal is thrown as the daemon's `ErrorBody`, a closed
    /// connection or no answer within `timeoutSeconds` as a `DaemonError`.
    public func exchange(_ request: ControlMessage.Request,
                         timeoutSeconds: Double = ControlClient.replyTimeoutSeconds) throws -> ControlMessage.Reply {
        try send(request)
        guard let reply = try readReply(timeoutSeconds: timeoutSeconds) else {
            throw DaemonError(.system, "the daemon at \(path) closed the connection without answering")
        }
        if !reply.ok { throw reply.error ?? ControlMessage.ErrorBody(code: "refused", message: "the daemon refused the request") }
        return reply
    }

    /// One `status` request to the daemon at `path` (`viaduct status`, `graph`, the lab).
    /// Throws a `DaemonError` when it cannot be reached, its `ErrorBody` when it refuses.
    public static func status(at path: String) throws -> NodeStatus {
        let client = try ControlClient(path: path)
        defer { client.close() }
        guard let status = try client.exchange(.init(command: "status")).status else {
            throw DaemonError(.system, "the daemon at \(path) sent no status")
        }
        return status
    }
}
