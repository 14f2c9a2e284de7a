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
