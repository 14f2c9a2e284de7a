@testable import Daemon
import IKEv2
import Testing

/// Counts resyncs instead of looking at a kernel.
final class CountingResync: KernelResyncing {
    var count = 0
    func resyncKernel() { count += 1 }
}

@Suite("KernelResyncTimer: the daemon's periodic full look at the kernel")
struct KernelResyncTimerTests {
    @Test("the first resync is one interval after the first wake-up, then one per interval, however often the loop wakes")
    func periodic() {
        let target = CountingResync()
        let timer = KernelResyncTimer(target, intervalSeconds: 60)
        #expect(timer.pollDescriptors().isEmpty, "a timer, not a descriptor")
        var counts: [Int] = []
        for second in [5.0, 30, 64.9, 65, 66, 100, 124.9, 125, 400] {
            timer.handle([], now: .seconds(second))
            counts.append(target.count)
        }
        #expect(counts == [0, 0, 0, 1, 1, 1, 1, 2, 3])
    }
}
