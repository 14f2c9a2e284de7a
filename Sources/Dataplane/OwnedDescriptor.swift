import Glibc

/// A file descriptor with exactly one owner. Immutable and `Sendable`, so worker threads can hold
/// a reference while they poll or read it; it is closed in `deinit`, i.e. only when the last holder
/// (the data plane's table or a worker's poll set) lets go. That is what keeps a descriptor number
/// from being closed and reused under a thread that is still reading it.
final class OwnedDescriptor: Sendable {
    let rawValue: Int32

    init(taking rawValue: Int32) { self.rawValue = rawValue }

    deinit { SystemCall.close(rawValue) }
}
