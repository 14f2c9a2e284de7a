import CLinuxShims
import Glibc

/// Runs code inside a named network namespace (`ip netns add NAME`, i.e. /run/netns/NAME).
///
/// For tests and the `viaduct bench dataplane` tool, which run two gateways in one process: a TUN
/// device or a socket belongs to the namespace it was created in, whatever thread later reads it,
/// so creating them inside `run` and handing them to a data plane outside works. setns(2) changes
/// only the calling thread, so `run` does it on a fresh thread and the caller's thread (and the
/// Swift concurrency pool) never changes namespace.
public enum NetworkNamespace {
    public static func run<T: Sendable>(
        in name: String, _ body: @escaping @Sendable () throws(DataplaneError) -> T
    ) throws(DataplaneError) -> T {
        let outcome = Outcome<T>()
        let thread = try WorkerThread {
            let path = "/run/netns/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                outcome.set(.failure(DataplaneError(.namespace, "cannot open \(path)", errno: Glibc.errno)))
                return
            }
            let entered = viaduct_setns_net(fd)
            let setnsErrno = Glibc.errno
            SystemCall.close(fd)
            guard entered == 0 else {
                outcome.set(.failure(DataplaneError(.namespace, "setns(\(path)) failed", errno: setnsErrno)))
                return
            }
            do throws(DataplaneError) {
                outcome.set(.success(try body()))
            } catch {
                outcome.set(.failure(error))
            }
        }
        thread.join()
        guard let result = outcome.get() else {
            throw DataplaneError(.namespace, "namespace thread returned no result")
        }
        return try result.get()
    }
}
