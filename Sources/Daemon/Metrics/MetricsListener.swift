import Dataplane
import Glibc
import System

/// The metrics endpoint's listening TCP socket: non-blocking, close-on-exec, SO_REUSEADDR so a
/// restarted daemon can bind again at once. Single owner of its fd.
final class MetricsListener {
    private var file: FileDescriptor?
    var descriptor: Int32 { file?.rawValue ?? -1 }
    let address: MetricsAddress

    init(address: MetricsAddress) throws(DaemonError) {
        self.address = address
        guard let sa = SocketAddress(address.endpoint) else {
            throw DaemonError(.configuration, "--metrics \(address): not an IPv4 or IPv6 address")
        }
        let family = address.endpoint.address.count == 16 ? AF_INET6 : AF_INET
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        switch Syscall.retrying({ socket(family, type, 0) }) {
        case .success(let fd): file = FileDescriptor(taking: fd)
        case .failure(let e): throw DaemonError(.system, "socket for the metrics endpoint \(address) failed: \(e)", errno: e)
        }
        let fd = descriptor
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 { _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = sa.withSockaddr { p, len in Syscall.check { bind(fd, p, len) } }
        if case .failure(let e) = bound {
            close()
            let code: DaemonError.Code = switch e {
            case .addressInUse: .portInUse
            case .addressNotAvailable: .addressNotConfigured
            case .permissionDenied: .permissionDenied
            default: .system
            }
            throw DaemonError(code, "cannot listen for metrics on \(address): \(e)", errno: e)
        }
        if case .failure(let e) = Syscall.check({ listen(fd, 16) }) {
            close()
            throw DaemonError(.system, "listen for metrics on \(address) failed: \(e)", errno: e)
        }
    }

    deinit { close() }

    func close() {
        guard file != nil else { return }
        file = nil
    }

    /// The next pending connection, non-blocking and close-on-exec, or nil when none waits.
    func accept() -> FileDescriptor? {
        Syscall.acceptConnection(descriptor)
    }
}
