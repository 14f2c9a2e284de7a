import KernelModel
import Synchronization
import System

/// Interface deletions sent from a thread of their own, so a reconcile does not wait for them.
///
/// RTM_DELLINK returns only once the kernel has torn the interface down, and that waits for RCU
/// (`rcu_barrier()` in `netdev_run_todo`, after the RTNL lock is released, so other netlink
/// requests go on meanwhile): 10 to 30 ms per request on the development host (a
/// `CONFIG_RCU_LAZY` kernel), CPU-idle, whatever the interface. By the time the executor hands
/// an interface over, its policies are deleted and it is down (its routes gone), so nothing is
/// routed into it any more; the kernel finishes the rest here.
///
/// One batch at a time: `start` and `finish` wait for the previous one, and the executor calls
/// `finish` before it observes or plans again, so it never sees a half-deleted kernel. The
/// route socket is this object's and lives in a `Mutex`, held by the thread for as long as it
/// sends; the thread is joined before the socket is used again or closed.
final class DeferredLinkDeletion {
    private final class Shared: Sendable {
        let socket: Mutex<NetlinkSocket>
        let failure = Mutex<NetlinkError?>(nil)

        init(_ socket: consuming sending NetlinkSocket) {
            self.socket = Mutex(socket)
        }
    }

    private let shared: Shared
    private var worker: PosixThread?

    /// Opens the route socket in the calling thread's network namespace.
    init() throws(NetlinkError) {
        shared = Shared(try NetlinkSocket(.route))
    }

    deinit {
        worker?.join()
    }

    /// Whether a batch may still be under way.
    var isPending: Bool { worker != nil }

    /// Sends `requests` (RTM_DELLINK) from a new thread; first waits for the previous batch and
    /// throws its failure, if any (then nothing is started).
    func start(_ requests: [NetlinkRequest]) throws(NetlinkError) {
        try finish()
        guard !requests.isEmpty else { return }
        let shared = self.shared
        let body: @Sendable () -> Void = {
            shared.socket.withLock { socket in
                do throws(NetlinkError) {
                    if let error = try socket.send(batch: requests).first(where: { $0.error != nil })?.error {
                        shared.failure.withLock { $0 = $0 ?? error }
                    }
                } catch {
                    shared.failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        let thread: PosixThread
        do throws(Errno) { thread = try PosixThread(body) } catch {
            // No thread: delete here and now instead.
            try shared.socket.withLock { socket throws(NetlinkError) in try socket.apply(requests) }
            return
        }
        worker = thread
    }

    /// Waits until the deletions under way are done; throws the first one that failed.
    func finish() throws(NetlinkError) {
        guard let worker else { return }
        worker.join()
        self.worker = nil
        let failure = shared.failure.withLock { value in
            defer { value = nil }
            return value
        }
        if let failure { throw failure }
    }
}
