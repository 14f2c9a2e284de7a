import CryptoCore
@testable import IKEv2
import Testing

/// RFC 7296 §2.8, §2.18: `rekeyDeadlines` reports the instants the session drew for its rekeys
/// (lifetime − margin − a random part of the jitter) and the rekeys start exactly then, so
/// status (which shows them) tells the truth, jitter included.
struct EngineRekeyDeadlineTests {
    @Test("the reported deadlines are inside the jitter window, and each rekey starts at its deadline, not a second before")
    func deadlinesAreWhenTheRekeysStart() throws {
        let (net, _) = try EngineRekeyTests.tunnel(configure: {
            $0.childLifetime = 3_600; $0.childRekeyMargin = 300; $0.childRekeyJitter = 180
            $0.ikeLifetime = 14_400; $0.ikeRekeyMargin = 1_800; $0.ikeRekeyJitter = 900
        })
        let session = net.initiator
        let up = net.now
        let child = try #require(session.childSA?.inboundSPI)
        let d = try #require(session.rekeyDeadlines)
        let childAt = try #require(d.children[child])
        let ikeAt = try #require(d.ike)
        #expect(Set(d.children.keys) == [child])
        // Drawn in [lifetime − margin − jitter, lifetime − margin] of when each came up (at or
        // before `up`), and not the window's end (the seeded draw is not 0).
        #expect(childAt.seconds(since: IKEInstant(nanoseconds: 0)) >= 3_600 - 300 - 180)
        #expect(childAt.seconds(since: up) < 3_600 - 300)
        #expect(ikeAt.seconds(since: IKEInstant(nanoseconds: 0)) >= 14_400 - 1_800 - 900)
        #expect(ikeAt.seconds(since: up) < 14_400 - 1_800)

        // The Child SA's rekey: nothing a second before its deadline, CREATE_CHILD_SA at it.
        #expect(session.nextDeadline == min(childAt, ikeAt))
        session.timeout(now: IKEInstant(nanoseconds: childAt.nanoseconds - 1_000_000_000))
        #expect(session.pollTransmit() == nil)
        session.timeout(now: childAt)
        let request = try #require(session.pollTransmit())
        #expect(try IKEHeader(decoding: request.bytes).exchangeType == .createChildSA)
        // Under way: its deadline is in the past; the IKE SA's is unchanged.
        #expect(session.rekeyDeadlines?.ike == ikeAt)
        #expect(try #require(session.rekeyDeadlines?.children[child]) <= childAt)
    }

    @Test("the IKE SA's rekey starts at its deadline, not a second before; then it reports none")
    func ikeRekeyStartsAtItsDeadline() throws {
        let (net, _) = try EngineRekeyTests.tunnel(configure: {
            $0.childLifetime = 86_400; $0.childRekeyMargin = 300; $0.childRekeyJitter = 180
            $0.ikeLifetime = 3_600; $0.ikeRekeyMargin = 600; $0.ikeRekeyJitter = 300
        })
        let session = net.initiator
        let ikeAt = try #require(session.rekeyDeadlines?.ike)
        #expect(ikeAt.seconds(since: net.now) < 3_600 - 600)
        session.timeout(now: IKEInstant(nanoseconds: ikeAt.nanoseconds - 1_000_000_000))
        #expect(session.pollTransmit() == nil)
        session.timeout(now: ikeAt)
        let request = try #require(session.pollTransmit())
        #expect(try IKEHeader(decoding: request.bytes).exchangeType == .createChildSA)
        #expect(session.rekeyDeadlines?.ike == nil)
    }
}
