import DataplaneContract
import System

/// Runs code inside a named network namespace (`ip netns add NAME`, i.e. /run/netns/NAME).
///
/// For tests and the `viaduct bench dataplane` tool, which run two gateways in one process: a TUN
/// device or a socket belongs to the namespace it was created in, whatever thread later reads it,
/// so creating them inside `run` and handing them to a data plane outside works. setns(2) changes
/// only the calling thread, so `run` does it on a fresh thread (System's `NetNamespace.run`) and
/// the caller's thread (and the Swift concurrency pool) never changes namespace.
public enum NetworkNamespace {
    public static func run<T: Sendable>(
        in name: String, _ body: @escaping @Sendable () throws(DataplaneError) -> T
    ) throws(DataplaneError) -> T {
        let result: Result<T, DataplaneError>
        do throws(Errno) {
            result = try NetNamespace.run(in: name) { () -> Result<T, DataplaneError> in
                do throws(DataplaneError) { return .success(try body()) } catch { return .failure(error) }
            }
        } catch {
            throw DataplaneError(.namespace, "cannot enter /run/netns/\(name)", errno: error.rawValue)
        }
        return try result.get()
    }
}
