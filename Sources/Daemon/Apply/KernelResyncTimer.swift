import Glibc
import IKEv2

/// A data plane whose kernel objects are kept by an incremental reconciler, which only sees
/// its own changes: `resyncKernel` looks at the whole kernel again and repairs what someone
/// else changed (an operator's `ip route del`, another tool's cleanup).
public protocol KernelResyncing: AnyObject {
    func resyncKernel()
}

/// Calls `KernelResyncing.resyncKernel` every `intervalSeconds` from the event loop's thread.
/// It has no descriptor: the loop calls `handle` after every wake-up, and wakes at least once
/// a minute (`IKEEventLoop.run(maxWaitMilliseconds:)`), so a resync happens within a minute of
/// falling due. The first one is one interval after start (the start itself observed in full).
public final class KernelResyncTimer: EventLoopSource {
    public static let defaultIntervalSeconds: UInt64 = 60

    private let target: any KernelResyncing
    private let interval: UInt64
    private var due: IKEInstant?

    public init(_ target: any KernelResyncing, intervalSeconds: UInt64 = KernelResyncTimer.defaultIntervalSeconds) {
        self.target = target
        self.interval = max(1, intervalSeconds) * 1_000_000_000
    }

    public func pollDescriptors() -> [pollfd] { [] }

    public func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant) {
        guard let due else {
            self.due = IKEInstant(nanoseconds: now.nanoseconds &+ interval)
            return
        }
        guard now >= due else { return }
        target.resyncKernel()
        self.due = IKEInstant(nanoseconds: now.nanoseconds &+ interval)
    }

    public func close() {}
}
