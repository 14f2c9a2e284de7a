import ViaductCrypto
import CryptoCore
@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// The endpoint's admission gate between a configured peer's new IKE_SA_INIT and the responder
/// session (RFC 8019, RFC 7296 §2.6), with scripted sessions and a fake clock.
struct EndpointAdmissionTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    func makeCore(_ policy: IKEAdmissionPolicy) throws -> (EndpointProbe, FakeFactory) {
        let factory = FakeFactory()
        let gate = IKEAdmissionGate(policy: policy, prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256),
                                    random: SeededRandomSource(seed: 42))
        let core = EndpointProbe.withPeerB(factory, initiator: false, reinitiateDelaySeconds: 30, admission: gate)
        core.start(now: t0)
        return (core, factory)
    }

    func cookies(in out: [IKEDatagram]) throws -> [UInt64: [UInt8]] {
        var found: [UInt64: [UInt8]] = [:]
        for d in out {
            let m = try IKEMessage(decoding: d.bytes)
            if let c = m.notifies.first(where: { $0.type == .cookie }) { found[m.header.initiatorSPI.rawValue] = c.data }
        }
        return found
    }

    @Test func floodFromAPeerAddressCreatesSessionsOnlyUpToTheThreshold() throws {
        let (core, factory) = try makeCore(IKEAdmissionPolicy(cookieThreshold: 3, perSourceCookieThreshold: 100,
                                                              unverifiedRate: IKERate(perSecond: 0, burst: 1000)))
        for spi in UInt64(1)...50 { core.receive(try ikeSAInitRequest(spi: spi), now: t0) }
        #expect(factory.made.count == 3)
        let answered = try cookies(in: core.takeOutgoing())
        #expect(answered.count == 47)
        #expect(core.counters.admission.cookiesSent == 47 && core.counters.admission.halfOpen == 3)
        #expect(core.logged("new ones need a COOKIE"))
        // A peer that can receive at its address comes back with its cookie and gets a session.
        let c = try #require(answered[50])
        core.receive(try ikeSAInitRequest(spi: 50, cookie: c), now: t0.adding(seconds: 0.1))
        #expect(factory.made.count == 4 && core.counters.admission.cookiesAccepted == 1)
        // Its retransmission reaches the same session without asking the gate again.
        core.receive(try ikeSAInitRequest(spi: 50, cookie: c), now: t0.adding(seconds: 0.2))
        #expect(factory.made.count == 4 && factory.made[3].received.count == 2)
        // Strangers never reach the gate.
        core.receive(try ikeSAInitRequest(spi: 99, from: stranger), now: t0)
        #expect(core.counters.unknownPeer == 1 && core.counters.admission.cookiesSent == 47)
    }

    @Test func halfOpenSlotsComeBackWhenSessionsEstablishFailOrExpire() throws {
        let (core, factory) = try makeCore(IKEAdmissionPolicy(cookieThreshold: 2, perSourceCookieThreshold: 100,
                                                              unverifiedRate: IKERate(perSecond: 0, burst: 1000)))
        factory.responderScript = { s, _ in s.nextDeadline = IKEInstant(nanoseconds: 31_000_000_000) }
        core.receive(try ikeSAInitRequest(spi: 1), now: t0)
        core.receive(try ikeSAInitRequest(spi: 2), now: t0)
        #expect(core.counters.admission.halfOpen == 2)
        core.receive(try ikeSAInitRequest(spi: 3), now: t0)
        #expect(factory.made.count == 2)  // third got a cookie
        // Session 1 completes IKE_AUTH: no longer half-open.
        let first = factory.made[0]
        first.events = [.ikeSAEstablished(initiatorSPI: 1, responderSPI: IKESPI(first.spi), proposal: "p", peerIdentity: "gw-b",
                                          local: first.local, peer: first.peer)]
        first.nextDeadline = t0
        core.fireTimers(now: t0)
        #expect(core.counters.admission.halfOpen == 1)
        // Session 2 never completes: the engine's half-open timeout fails it.
        let second = factory.made[1]
        second.events = [.ikeSAFailed(IKEFailure(.timeout, "never completed IKE_AUTH"))]
        core.fireTimers(now: IKEInstant(nanoseconds: 31_000_000_000))
        #expect(core.counters.admission.halfOpen == 0 && core.counters.admission.halfOpenPeak == 2)
        core.receive(try ikeSAInitRequest(spi: 4), now: IKEInstant(nanoseconds: 32_000_000_000))
        #expect(factory.made.count == 3)
    }

    @Test func withoutAGateEveryRequestGetsASession() throws {
        let factory = FakeFactory()
        let core = EndpointProbe.withPeerB(factory, initiator: false, reinitiateDelaySeconds: 30)
        for spi in UInt64(1)...20 { core.receive(try ikeSAInitRequest(spi: spi), now: t0) }
        #expect(factory.made.count == 20 && core.counters.admission == IKEAdmissionCounters())
    }
}

extension EndpointAdmissionTests {
    /// A flood impersonating a peer leaves half-open SAs that expire; their failures must not
    /// reach status/events while the peer's real IKE SA lives.
    @Test func expiringSpoofedHalfOpenDoesNotReportThePeersTunnelFailed() throws {
        let (core, factory) = try makeCore(IKEAdmissionPolicy(cookieThreshold: 10, perSourceCookieThreshold: 100,
                                                              unverifiedRate: IKERate(perSecond: 0, burst: 1000)))
        var reported: [IKEEvent] { core.events }
        core.receive(try ikeSAInitRequest(spi: 1), now: t0)  // the real peer
        core.receive(try ikeSAInitRequest(spi: 2), now: t0)  // a spoofed copy
        let (real, spoofed) = (factory.made[0], factory.made[1])
        real.events = [.ikeSAEstablished(initiatorSPI: 1, responderSPI: IKESPI(real.spi), proposal: "p", peerIdentity: "gw-b",
                                         local: real.local, peer: real.peer)]
        real.nextDeadline = t0
        core.fireTimers(now: t0)
        spoofed.events = [.ikeSAFailed(IKEFailure(.timeout, "never completed IKE_AUTH"))]
        spoofed.nextDeadline = IKEInstant(nanoseconds: 31_000_000_000)
        core.fireTimers(now: IKEInstant(nanoseconds: 31_000_000_000))
        #expect(reported.count == 1 && reported.first.map { if case .ikeSAEstablished = $0 { true } else { false } } == true)
        #expect(core.counters.admission.halfOpen == 0)
        // The same failure with no other SA of the peer alive is reported.
        core.receive(try ikeSAInitRequest(spi: 3), now: IKEInstant(nanoseconds: 32_000_000_000))
        let lone = factory.made[2]
        real.events = [.ikeSADeleted]
        real.nextDeadline = IKEInstant(nanoseconds: 33_000_000_000)
        core.fireTimers(now: IKEInstant(nanoseconds: 33_000_000_000))
        lone.events = [.ikeSAFailed(IKEFailure(.timeout, "never completed IKE_AUTH"))]
        lone.nextDeadline = IKEInstant(nanoseconds: 62_000_000_000)
        core.fireTimers(now: IKEInstant(nanoseconds: 62_000_000_000))
        #expect(reported.count == 3)
    }
}

extension EndpointAdmissionTests {
    @Test func admittedRequestWithoutASessionGivesItsSlotBack() throws {
        let gate = IKEAdmissionGate(policy: IKEAdmissionPolicy(), prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256),
                                    random: SeededRandomSource(seed: 1))
        let core = EndpointProbe.withPeerB(FailingFactory(), initiator: false, reinitiateDelaySeconds: 30, admission: gate)
        core.receive(try ikeSAInitRequest(spi: 1), now: t0)
        #expect(core.counters.admission.admitted == 1 && core.counters.admission.halfOpen == 0)
    }
}
