import CLinuxShims
import Glibc

/// SIGINT/SIGTERM (stop) and SIGHUP (reload) as a readable file descriptor (signalfd(2)): the signals are blocked, so no
/// handler ever runs, and the event loop sees them in `poll()` like any other input. No work
/// happens in signal context. Owns the descriptor.
public final class SignalDescriptor {
    public private(set) var descriptor: Int32

    /// Blocks `signals` for the calling thread (and threads it creates later) and opens the fd.
    /// Call it before starting any other thread so no thread receives them asynchronously.
    public init(signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) throws(DaemonError) {
        var set = sigset_t()
        let blocked = signals.withUnsafeBufferPointer { viaduct_sigset_block(&set, $0.baseAddress, Int32($0.count)) }
        guard blocked == 0 else {
            throw DaemonError(.system, "pthread_sigmask failed: \(Errno(rawValue: blocked))", errno: Errno(rawValue: blocked))
        }
        switch Syscall.retrying({ signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }) {
        case .success(let fd): descriptor = fd
        case .failure(let e): throw DaemonError(.system, "signalfd failed: \(e)", errno: e)
        }
    }

    deinit { close() }

    public func close() {
        guard descriptor >= 0 else { return }
        _ = Syscall.close(descriptor)
        descriptor = -1
    }

    /// The next pending signal number, or nil when none is queued.
    public func read() -> Int32? {
        var info = signalfd_siginfo()
        let fd = descriptor
        let size = MemoryLayout<signalfd_siginfo>.size
        let r = withUnsafeMutableBytes(of: &info) { raw in Syscall.retrying { Glibc.read(fd, raw.baseAddress, size) } }
        guard case .success(let n) = r, n == size else { return nil }
        return Int32(bitPattern: info.ssi_signo)
    }
}
