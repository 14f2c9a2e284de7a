import CSystem
import Glibc

/// Signals as a readable file descriptor (signalfd(2)): the signals are blocked, so no handler
/// ever runs, and an event loop sees them in `poll()` like any other input. No work happens in
/// signal context.
public enum Signals {
    /// Why a signal descriptor could not be had.
    public struct Failure: Error, Sendable {
        public enum Step: Sendable { case block, signalfd }
        public var step: Step
        public var errno: Errno
    }

    /// Blocks `signals` for the calling thread (and threads it creates later) and opens a
    /// nonblocking descriptor that reads them. Call it before starting any other thread so no
    /// thread receives them asynchronously.
    public static func descriptor(for signals: [Int32]) throws(Failure) -> FileDescriptor {
        var set = sigset_t()
        let blocked = signals.withUnsafeBufferPointer { viaduct_sigset_block(&set, $0.baseAddress, Int32($0.count)) }
        guard blocked == 0 else { throw Failure(step: .block, errno: Errno(rawValue: blocked)) }
        switch Syscall.retrying({ signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }) {
        case .success(let fd): return FileDescriptor(taking: fd)
        case .failure(let e): throw Failure(step: .signalfd, errno: e)
        }
    }

    /// The signals a process-wide handler (the daemon's signalfd) takes: a thread that leaves
    /// them unblocked can be picked by the kernel to receive one, and their default action ends
    /// the process (SIGTERM without the Delete of its IKE SAs, SIGHUP instead of a reload).
    public static let processDirected: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2]

    /// Blocks `signals` in the calling thread only. A worker thread started before the daemon
    /// called `descriptor(for:)` (which blocks them for the threads started after it) calls this
    /// first.
    public static func blockInThisThread(_ signals: [Int32] = processDirected) throws(Failure) {
        var set = sigset_t()
        let blocked = signals.withUnsafeBufferPointer { viaduct_sigset_block(&set, $0.baseAddress, Int32($0.count)) }
        guard blocked == 0 else { throw Failure(step: .block, errno: Errno(rawValue: blocked)) }
    }

    /// Whether `signal` is blocked in the calling thread.
    public static func isBlockedInThisThread(_ signal: Int32) -> Bool {
        var current = sigset_t()
        guard pthread_sigmask(SIG_BLOCK, nil, &current) == 0 else { return false }
        return sigismember(&current, signal) == 1
    }

    /// The next pending signal number on a descriptor from `descriptor(for:)`, or nil when none
    /// is queued.
    public static func read(_ descriptor: FileDescriptor) -> Int32? {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        let r = withUnsafeMutableBytes(of: &info) { raw in descriptor.read(into: raw) }
        guard case .success(let n) = r, n == size else { return nil }
        return Int32(bitPattern: info.ssi_signo)
    }
}
