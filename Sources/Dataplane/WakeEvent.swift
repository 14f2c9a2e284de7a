import Glibc

/// An eventfd(2) a worker polls beside its data descriptors, so that the control plane can wake
/// it when the set of peers changes or the data plane stops. Nonblocking: `signal` never waits.
final class WakeEvent: Sendable {
    let descriptor: OwnedDescriptor

    init() throws(DataplaneError) {
        if let call = BatchSyscalls.table.eventfd {
            let fd = call(0, BatchSyscalls.eventFlags)
            guard fd >= 0 else { throw DataplaneError(.system, "eventfd() failed", errno: Glibc.errno) }
            descriptor = OwnedDescriptor(taking: fd)
            return
        }
        throw DataplaneError(.system, "this libc has no eventfd()")
    }

    func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(descriptor.rawValue, $0.baseAddress, 8) }
    }

    /// Resets the counter after a wake-up.
    func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(descriptor.rawValue, $0.baseAddress, 8) }
    }
}
