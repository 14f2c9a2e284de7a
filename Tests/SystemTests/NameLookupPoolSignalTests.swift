import Glibc
import Synchronization
import System
import Testing

/// The name lookup pool starts before the daemon blocks SIGTERM/SIGHUP into its signalfd; its
/// workers must block them themselves, or the kernel may deliver one to a worker, whose default
/// action ends the process (a SIGTERM then stops the daemon without deleting its IKE SAs, the
/// interop scenario lifecycle-viaduct's "strongSwan got no DELETE from the stopping Viaduct").
@Suite("Name lookup pool")
struct NameLookupPoolSignalTests {
    @Test func workersBlockTheProcessDirectedSignals() throws {
        // The pool is made by a thread that leaves the signals unblocked, as `viaduct run` does
        // before the daemon opens its signalfd (workers inherit their creator's mask).
        var unblock = sigset_t(), saved = sigset_t()
        sigemptyset(&unblock)
        for sig in Signals.processDirected { sigaddset(&unblock, sig) }
        #expect(pthread_sigmask(SIG_UNBLOCK, &unblock, &saved) == 0)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        #expect(!Signals.isBlockedInThisThread(SIGTERM))
        let seen = Mutex<[Int32: Bool]>([:])
        let pool = try NameLookupPool(workers: 1) { _, _ in
            seen.withLock { s in for sig in Signals.processDirected { s[sig] = Signals.isBlockedInThisThread(sig) } }
            return .success([[192, 0, 2, 1]])
        }
        _ = pool.submit(name: "gw.example.net", ipv6: false)
        var fd = pollfd(fd: pool.descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&fd, 1, 10_000)
        #expect(pool.take().map(\.name) == ["gw.example.net"])
        let blocked = seen.withLock { $0 }
        #expect(blocked.count == Signals.processDirected.count)
        #expect(blocked.values.allSatisfy { $0 }, "\(blocked)")
    }
}
