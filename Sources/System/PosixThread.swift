import CSystem
import Glibc

/// A joinable POSIX thread running a `@Sendable` closure; the program's one pthread_create. The
/// data plane's workers are long-lived loops that block in poll(2); they are not async tasks
/// because a blocked cooperative-pool thread would starve the rest of the process, and because
/// stopping must be able to wait for them to be gone before the descriptors they read are
/// released. Namespace runs use one too: setns(2) changes only the calling thread.
public struct PosixThread: Sendable {
    private let handle: pthread_t

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `run` on a new thread. `name` (at most 15 bytes are kept: the kernel's limit) is
    /// what `top -H`, `ps -L` and /proc/PID/task/TID/comm show for the thread.
    public init(name: String? = nil, _ run: @escaping @Sendable () -> Void) throws(Errno) {
        let body: @Sendable () -> Void
        if let name {
            let short = String(decoding: Array(name.utf8.prefix(15)), as: UTF8.self)
            body = {
                _ = viaduct_set_thread_name(short)
                run()
            }
        } else {
            body = run
        }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw Errno(rawValue: result)
        }
        handle = thread
    }

    /// Waits for the thread to return.
    public func join() {
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread end on its own, never joined (a name lookup that may outlive its owner:
    /// getaddrinfo(3) cannot be interrupted, and shutdown must not wait for a dead DNS server).
    public func detach() {
        _ = pthread_detach(handle)
    }
}
