import DataplaneContract
import System

/// A data plane worker: a joinable POSIX thread (System's `PosixThread`) running a `@Sendable`
/// closure. The workers are long-lived loops that block in poll(2); they are not async tasks
/// because a blocked cooperative-pool thread would starve the rest of the process (2 cores
/// here), and because `stop()` must be able to wait for them to be gone before the descriptors
/// they read are released.
struct WorkerThread: Sendable {
    private let thread: PosixThread

    /// `name` (at most 15 bytes are kept: the kernel's limit) is what `top -H`, `ps -L` and
    /// /proc/PID/task/TID/comm show for the thread.
    init(name: String? = nil, _ run: @escaping @Sendable () -> Void) throws(DataplaneError) {
        do throws(Errno) { thread = try PosixThread(name: name, run) } catch {
            throw DataplaneError(.system, "pthread_create failed", errno: error.rawValue)
        }
    }

    /// Waits for the thread to return.
    func join() {
        thread.join()
    }
}
