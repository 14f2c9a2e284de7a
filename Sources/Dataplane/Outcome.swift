import Synchronization

/// A one-shot result handed from a worker thread to the thread that joins it.
final class Outcome<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, DataplaneError>?>(nil)

    func set(_ result: Result<T, DataplaneError>) { value.withLock { $0 = result } }
    func get() -> Result<T, DataplaneError>? { value.withLock { $0 } }
}
