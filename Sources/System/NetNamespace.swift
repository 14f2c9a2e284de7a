import CSystem
import Glibc
import Synchronization

/// Network namespaces by name (`ip netns add NAME` makes /run/netns/NAME); the program's one
/// setns(2). A TUN device or a socket belongs to the namespace it was created in, whatever thread
/// later reads it, so creating them inside `run` and handing them out works.
public enum NetNamespace {
    /// Moves the calling thread into network namespace `name`. Sockets opened afterwards on that
    /// thread belong to the namespace for their whole life, so a thread that enters a namespace
    /// should open its sockets and do nothing else.
    ///
    /// Equivalent to what `ip netns exec NAME` does for its child before exec.
    public static func enter(named name: String) throws(Errno) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { throw Errno.invalidArgument }
        try join(FileDescriptor.open("/run/netns/" + name, O_RDONLY))
    }

    /// Runs `body` with the calling thread inside namespace `name`, then moves the thread back to
    /// the namespace it was in. Synchronous on purpose: no suspension point while inside (tests
    /// that create sockets in a namespace of their own).
    public static func inside<T>(named name: String, _ body: () throws -> T) throws -> T {
        let home = try FileDescriptor.open("/proc/thread-self/ns/net", O_RDONLY)
        try enter(named: name)
        defer { try? join(home) }
        return try body()
    }

    /// setns(2) into the network namespace `namespace` refers to (CLONE_NEWNET), for the calling
    /// thread only.
    private static func join(_ namespace: FileDescriptor) throws(Errno) {
        if case .failure(let e) = Syscall.check({ viaduct_setns_net(namespace.rawValue) }) { throw e }
    }

    /// Runs `body` on a fresh thread that entered namespace `name`, and waits for it. setns(2)
    /// changes only the calling thread, so the caller's thread (and the Swift concurrency pool)
    /// never changes namespace. Throws when the thread or the namespace could not be had; the
    /// body's own failures travel in its `T` (a `Result`).
    public static func run<T: Sendable>(in name: String, _ body: @escaping @Sendable () -> T) throws(Errno) -> T {
        let outcome = Mutex<Result<T, Errno>?>(nil)
        let thread = try PosixThread {
            do throws(Errno) {
                try enter(named: name)
                let value = body()
                outcome.withLock { $0 = .success(value) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
        }
        thread.join()
        guard let result = outcome.withLock({ $0 }) else { throw Errno.invalidArgument }
        return try result.get()
    }
}
