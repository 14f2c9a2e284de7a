import Foundation
import Synchronization

/// The figures of `viaduct bench handshake`: setups back to back on threads, and the two
/// loopback halves on two threads.
extension HandshakeBenchmark {
    public struct InProcessFigure: Sendable {
        public var count: Int
        public var seconds: Double
        public var median: Double
        public var rate: Double { seconds > 0 ? Double(count) / seconds : 0 }
    }

    /// `threads` threads each running setups back to back for `seconds`; the rate is all
    /// setups over the wall time until the last thread stopped.
    public func inProcess(threads: Int, seconds: Double) throws -> InProcessFigure {
        let results = Mutex<[Result<[Double], any Error>]>([])
        let done = DispatchSemaphore(value: 0)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start.advanced(by: .milliseconds(Int(seconds * 1000)))
        for _ in 0..<threads {
            let thread = Thread {
                defer { done.signal() }
                var times: [Double] = []
                do {
                    while clock.now < end {
                        let t0 = clock.now
                        try self.run()
                        times.append(Self.toSeconds(clock.now - t0))
                    }
                    results.withLock { $0.append(.success(times)) }
                } catch {
                    results.withLock { $0.append(.failure(error)) }
                }
            }
            thread.start()
        }
        for _ in 0..<threads { done.wait() }
        let wall = Self.toSeconds(clock.now - start)
        var all: [Double] = []
        for r in results.withLock({ $0 }) { all += try r.get() }
        all.sort()
        return InProcessFigure(count: all.count, seconds: wall, median: all.isEmpty ? 0 : all[all.count / 2])
    }

    /// `total` handshakes through loopback sockets (ports 47500/47501), `window` in flight: the
    /// responder on one thread, the initiators on another.
    public func overLoopback(total: Int, window: Int) throws -> LoopbackHandshakeResult {
        let (initiatorPort, responderPort): (UInt16, UInt16) = (47500, 47501)
        let stop = Atomic<Bool>(false)
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let responderOutcome = Mutex<(any Error)?>(nil)
        let responderCPU = Mutex<Double>(0)
        let responder = Thread {
            defer { finished.signal() }
            do {
                let served = try self.serveLoopbackResponder(port: responderPort, initiatorPort: initiatorPort,
                                                             ready: { ready.signal() }, stop: { stop.load(ordering: .relaxed) })
                responderCPU.withLock { $0 = served.cpuSeconds }
            } catch {
                responderOutcome.withLock { $0 = error }
                stop.store(true, ordering: .relaxed)
                ready.signal()
            }
        }
        responder.start()
        ready.wait()
        let result: Result<LoopbackHandshakeResult, any Error>
        do {
            result = .success(try runLoopbackInitiators(total: total, window: window, port: initiatorPort,
                                                        responderPort: responderPort,
                                                        stop: { stop.load(ordering: .relaxed) }))
        } catch {
            result = .failure(error)
        }
        stop.store(true, ordering: .relaxed)
        finished.wait()
        if let e = responderOutcome.withLock({ $0 }) { throw e }
        var outcome = try result.get()
        outcome.responderCPUSeconds = responderCPU.withLock { $0 }
        return outcome
    }

    static func toSeconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
