import CryptoCore
@testable import IKEv2
import Testing

/// The data of an up IKE SA (Child SAs, tasks, timers) lives in `.established` / `.deleting` and
/// is taken out of the phase while an exchange works on it (`IKESession.withUp`): a failure in
/// the meantime ends it for good and reports every Child SA it held.
struct EngineEstablishedStateTests {
    /// Randomness that has run dry: every request for bytes throws.
    struct ExhaustedRandom: RandomSource {
        mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
            throw CryptoError(.library, "no randomness left")
        }

        mutating func split() -> any RandomSource { self }
    }

    @Test("A rekey that cannot start fails the SA mid-exchange: its Child SA is reported deleted and it stays failed")
    func failureWhileTheUpSAIsTakenOut() throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        let a = net.initiator
        let child = try #require(a.childSA)
        while a.pollEvent() != nil {}
        // The rekey's new SPI needs randomness: `startNextTask` fails under `withUp`.
        a.random = ExhaustedRandom()
        a.rekeyChildSA(now: net.now)

        guard case .failed(let failure) = a.state else {
            Issue.record("state is \(a.state), not failed")
            return
        }
        #expect(failure.code == .internalError)
        #expect(a.up == nil && a.childSA == nil && a.childSAs.isEmpty)
        var events: [IKEEvent] = []
        while let e = a.pollEvent() { events.append(e) }
        guard events.count == 2, case .childSADeleted(let inbound, let outbound) = events[0],
              case .ikeSAFailed(let reported) = events[1] else {
            Issue.record("events \(events)")
            return
        }
        #expect(inbound == child.inboundSPI && outbound == child.outboundSPI)
        #expect(reported.code == .internalError)

        // Nothing brings it back: no timer, no rekey, no more events.
        #expect(a.nextDeadline == nil)
        a.timeout(now: net.now.adding(seconds: 100_000))
        a.rekeyChildSA(now: net.now)
        a.rekeyIKESA(now: net.now)
        #expect(a.up == nil && a.childSAs.isEmpty)
        if case .failed = a.state {} else { Issue.record("state is \(a.state) after timers and rekeys") }
        #expect(a.pollEvent() == nil)
    }
}
