import Glibc
import System

/// The listening end of the control socket: a `SOCK_STREAM` Unix socket at a path such as
/// `/run/viaduct/dc1.sock`, mode 0600 (in a directory it creates 0755 if missing), so only
/// root (the daemon's user) can connect; `ControlServer` also checks the peer's uid with
/// SO_PEERCRED. The read-only status socket (`/run/viaduct/dc1.status.sock`) is mode 0660 with
/// the group named by `run --status-group`: its members may read status and events. A stale socket file left by a crashed daemon is replaced, but a path where
/// another daemon still answers is an error. Single owner of its fd; `close()` also removes
/// the file.
public final class ControlSocket {
    private var file: FileDescriptor?
    public var descriptor: Int32 { file?.rawValue ?? -1 }
    public let path: String

    /// - Parameter group: with a group id, the socket is mode 0660 and owned by that group.
    public init(path: String, group: UInt32? = nil) throws(DaemonError) {
        let address = try UnixSocketAddress(path: path)
        self.path = path
        try Self.makeDirectory(of: path)
        if Self.someoneListens(at: address) {
            throw DaemonError(.portInUse, "control socket \(path) is in use: another viaduct daemon is running for this node (use --control-socket to pick another path)")
        }
        _ = unlink(path)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        switch Syscall.retrying({ socket(AF_UNIX, type, 0) }) {
        case .success(let fd): file = FileDescriptor(taking: fd)
        case .failure(let e): throw DaemonError(.system, "socket(AF_UNIX) for \(path) failed: \(e)", errno: e)
        }
        let fd = descriptor
        let old = umask(0o177)
        let bound = address.withSockaddr { sa, len in Syscall.check { bind(fd, sa, len) } }
        umask(old)
        if case .failure(let e) = bound {
            close()
            throw DaemonError(e == .permissionDenied ? .permissionDenied : .system, "cannot create control socket \(path): \(e)", errno: e)
        }
        if let group {
            if case .failure(let e) = Syscall.check({ chown(path, UInt32.max, group) }) {
                close()
                // The hardened unit keeps no CAP_CHOWN: root may only hand the socket to a group
                // it is a member of.
                let hint = e == .notPermitted ? " (under systemd, add SupplementaryGroups= with that group to the unit, see docs/operations.md)" : ""
                throw DaemonError(.system, "cannot give control socket \(path) to group \(group): \(e)\(hint)", errno: e)
            }
            _ = chmod(path, 0o660)
        } else {
            _ = chmod(path, 0o600)
        }
        if case .failure(let e) = Syscall.check({ listen(fd, 16) }) {
            close()
            throw DaemonError(.system, "listen on control socket \(path) failed: \(e)", errno: e)
        }
    }

    deinit { close() }

    /// Closes the descriptor and removes the socket file, once.
    public func close() {
        guard file != nil else { return }
        file = nil
        _ = unlink(path)
    }

    /// The next pending connection, non-blocking and close-on-exec, or nil when none waits.
    func accept() -> FileDescriptor? {
        Syscall.acceptConnection(descriptor)
    }

    private static func makeDirectory(of path: String) throws(DaemonError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let dir = String(path[..<slash])
        var st = stat()
        if stat(dir, &st) == 0 { return }
        // One level only: /run exists on every systemd machine; deeper trees are the operator's.
        // 0755: the sockets' own modes decide who connects (the status socket is for a group).
        if mkdir(dir, 0o755) != 0 && Errno.current != Errno(rawValue: EEXIST) {
            let e = Errno.current
            throw DaemonError(e == .permissionDenied ? .permissionDenied : .system, "cannot create directory \(dir) for the control socket: \(e)", errno: e)
        }
    }

    /// The id of group `name` (getgrnam_r), for `--status-group`.
    public static func groupID(named name: String) throws(DaemonError) -> UInt32 {
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let rc = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else {
            throw DaemonError(.configuration, "no group named '\(name)' on this host (--status-group); create it with 'addgroup --system \(name)'")
        }
        return group.gr_gid
    }

    /// True when a live daemon accepts connections at `address` (a stale file refuses them).
    private static func someoneListens(at address: UnixSocketAddress) -> Bool {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard let probe = try? FileDescriptor.socket(AF_UNIX, type, 0) else { return false }
        return address.withSockaddr { sa, len in connect(probe.rawValue, sa, len) == 0 }
    }
}
