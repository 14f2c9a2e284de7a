import DataplaneContract
import Glibc
import System

/// An eventfd(2) a worker polls beside its data descriptors, so that the control plane can wake
/// it when the set of peers changes or the data plane stops. Nonblocking: `signal` never waits.
final class WakeEvent: Sendable {
    let descriptor: FileDescriptor

    init() throws(DataplaneError) {
        if let call = BatchSyscalls.table.eventfd {
            let fd = call(0, BatchSyscalls.eventFlags)
            guard fd >= 0 else { throw DataplaneError(.system, "eventfd() failed", Errno.current) }
            descriptor = FileDescriptor(taking: fd)
            return
        }
        throw DataplaneError(.system, "this libc has no eventfd()")
    }

    func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { descriptor.write($0) }
    }

    /// Resets the counter after a wake-up.
    func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { descriptor.read(into: $0) }
    }
}
