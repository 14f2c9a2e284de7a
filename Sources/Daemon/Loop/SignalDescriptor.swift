import Glibc
import System

/// SIGINT/SIGTERM (stop) and SIGHUP (reload) as a readable file descriptor (signalfd(2), through
/// System's `Signals`): the signals are blocked, so no handler ever runs, and the event loop sees
/// them in `poll()` like any other input. No work happens in signal context. Owns the descriptor.
public final class SignalDescriptor {
    private var file: FileDescriptor?
    public var descriptor: Int32 { file?.rawValue ?? -1 }

    /// Blocks `signals` for the calling thread (and threads it creates later) and opens the fd.
    /// Call it before starting any other thread so no thread receives them asynchronously.
    public init(signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) throws(DaemonError) {
        do throws(Signals.Failure) { file = try Signals.descriptor(for: signals) } catch {
            switch error.step {
            case .block: throw DaemonError(.system, "pthread_sigmask failed: \(error.errno)", errno: error.errno)
            case .signalfd: throw DaemonError(.system, "signalfd failed: \(error.errno)", errno: error.errno)
            }
        }
    }

    public func close() {
        file = nil
    }

    /// The next pending signal number, or nil when none is queued.
    public func read() -> Int32? {
        guard let file else { return nil }
        return Signals.read(file)
    }
}
