import CryptoCore
@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// RFC 7296 §2.8.3 at the endpoint: two `IKESAManager`s driving real engines over an in-memory
/// link (`EndpointPair`), a fake clock and seeded randomness, the data plane fed from the
/// returned actions and checked at every step (each side sends on an SA the other has installed
/// inbound: make-before-break); and with scripted sessions, what the endpoint returns for a
/// peer's second IKE SA and for a reauthentication racing other IKE SAs.
struct EndpointReauthenticationTests {
    static let a = EndpointPair.a
    static let b = EndpointPair.b

    /// An endpoint with one peer, gw-b (192.0.2.2), on scripted sessions; its data-plane actions
    /// feed the `initiator` side of the model.
    static func scripted(_ factory: FakeFactory, initiator: Bool) -> (EndpointProbe, RekeyDataplaneModel) {
        let dp = RekeyDataplaneModel()
        let core = EndpointProbe.withPeerB(factory, initiator: initiator)
        core.onAction = { dp.apply(true, $0) }
        return (core, dp)
    }

    @Test("§2.8.3 make-before-break, either side reauthenticating: a new IKE SA (new SPIs, no INITIAL_CONTACT), its Child SA installed before the old IKE SA is deleted, the old Child SA removed after, and never a moment without an outbound SA the peer can decrypt",
          arguments: [true, false])
    func reauthentication(byA: Bool) throws {
        let pair = try EndpointPair(reauthenticating: byA)
        pair.start()
        #expect(pair.armed)
        let me = byA ? "A" : "B"
        var myDP: RekeyDataplaneModel.Side { byA ? pair.dpA : pair.dpB }
        var peerDP: RekeyDataplaneModel.Side { byA ? pair.dpB : pair.dpA }
        let firstOutbound = try #require(myDP.outboundSPI)
        let firstInbound = try #require(myDP.inbound.first)
        pair.run(until: 530)
        #expect(pair.count(me, EndpointPair.isReauthenticated) == 0)
        pair.run(until: 560)

        // A new IKE SA replaced the old one, reported on both sides with different SPIs.
        let reported = pair.events.compactMap { e -> (String, IKESPI, IKESPI, IKESPI, IKESPI)? in
            if case .ikeSAReauthenticated(let i, let r, let oi, let or) = e.event { (e.side, i, r, oi, or) } else { nil }
        }
        #expect(reported.map(\.0).sorted() == ["A", "B"])
        for r in reported { #expect(r.1 != r.3 && r.2 != r.4) }
        let mine = byA ? pair.factoryA : pair.factoryB
        #expect(mine.made.count == 2 && mine.made[1].initiator && !mine.made[1].initialContact)
        // Neither side took it as a restart, a failure or a tunnel-down.
        #expect(pair.count("A", { if case .initialContact = $0 { true } else { false } })
                + pair.count("B", { if case .initialContact = $0 { true } else { false } }) == 1)
        #expect(pair.count("A", EndpointPair.isFailure) == 0 && pair.count("B", EndpointPair.isFailure) == 0)

        // Make-before-break, as each data plane saw it: the new Child SA was installed before
        // the old one left, the old one is gone, one SA each, and the pair converged.
        for dp in [myDP, peerDP] {
            let install = try #require(dp.log.indices.first { $0 > 0 && dp.log[$0].hasPrefix("install") })
            let delete = try #require(dp.log.firstIndex { $0.hasPrefix("delete") })
            #expect(install < delete, "\(dp.log)")
            #expect(dp.inbound.count == 1)
        }
        #expect(!myDP.inbound.contains(firstInbound) && myDP.outboundSPI != firstOutbound)
        #expect(myDP.outboundSPI.map { peerDP.inbound.contains($0) } == true)
        // The reauthenticating side's old IKE SA was deleted only after the new Child SA was up.
        let oldGone = try #require(pair.events.firstIndex { $0.side == me && EndpointPair.isReauthenticated($0.event) })
        let newUp = try #require(pair.events.firstIndex { e in
            if e.side == me, case .childSAReady(let sa) = e.event { sa.inboundSPI != firstInbound } else { false }
        })
        #expect(newUp < oldGone)
        // The responder of the reauthentication held the new SA's outbound half until the old
        // IKE SA was deleted, then switched.
        #expect(peerDP.log.contains { $0.hasSuffix(" idle") })
        #expect(peerDP.log.contains { $0.hasPrefix("activate") })
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)

        // The new SA reauthenticates again on its own timer: the cycle repeats.
        pair.run(until: 1_200)
        #expect(pair.count(me, EndpointPair.isReauthenticated) == 2)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
        #expect(myDP.inbound.count == 1 && peerDP.inbound.count == 1)
    }

    @Test("A reauthentication that fails keeps the old IKE SA and its Child SA (no failure reported, no tunnel-down) and is retried later")
    func failedAttemptKeepsTheOldSA() throws {
        let pair = try EndpointPair(reauthenticating: true)
        pair.start()
        let firstOutbound = try #require(pair.dpA.outboundSPI)
        // The peer does not answer new IKE_SA_INITs (responder SPI 0) for a while.
        var blocked = true
        pair.drop = { d in blocked && d.source.address == EndpointPair.a.address && (try? IKEHeader(decoding: d.bytes))?.isNewSARequest == true }
        pair.run(until: 800)
        // The attempt timed out after its retransmissions (about 165 s) and a retry is under
        // way; the first SA still carries the tunnel.
        #expect(pair.factoryA.made.count == 3)
        #expect(pair.count("A", EndpointPair.isReauthenticated) == 0)
        #expect(pair.count("A", EndpointPair.isFailure) == 0 && pair.count("B", EndpointPair.isFailure) == 0)
        #expect(pair.dpA.outboundSPI == firstOutbound)
        blocked = false
        pair.run(until: 900)
        #expect(pair.count("A", EndpointPair.isReauthenticated) == 1)
        #expect(pair.dpA.outboundSPI != firstOutbound && pair.dpA.inbound.count == 1)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
    }

    @Test("A peer's second IKE SA without INITIAL_CONTACT: its Child SA is installed with the outbound half idle, takes the traffic after deferredOutboundSeconds if the peer keeps the old SA, and the old SA's deletion is reported as ike-reauthenticated")
    func peersSecondSAWaitsThenTakesOver() throws {
        let factory = FakeFactory()
        let (core, dp) = Self.scripted(factory, initiator: false)
        let t0 = IKEInstant(nanoseconds: 1_000_000_000)
        func child(_ inbound: UInt32) -> ChildSAParameters { scriptedChildSA(inbound) }
        func open(spiI: UInt64, child inbound: UInt32) {
            factory.responderScript = { s, d in
                s.transmit.append(IKEDatagram(bytes: ikeMessage(spiI: spiI, spiR: s.spi, initiator: false, response: true),
                                              source: d.destination, destination: d.source))
                s.events = [.ikeSAEstablished(initiatorSPI: IKESPI(spiI), responderSPI: IKESPI(s.spi), proposal: "p", peerIdentity: "gw-b",
                                              local: Self.a, peer: Self.b), .childSAReady(child(inbound))]
            }
            core.receive(IKEDatagram(bytes: ikeMessage(spiI: spiI, spiR: 0, initiator: true, response: false), source: Self.b,
                                     destination: Self.a), now: t0)
        }
        core.start(now: t0)
        open(spiI: 0xAAAA, child: 0x5000)
        #expect(dp.initiator.log == ["install \(0x5000)"] && dp.initiator.outboundSPI == 0x5001)
        open(spiI: 0xBBBB, child: 0x6000)
        #expect(dp.initiator.log.last == "install \(0x6000) idle" && dp.initiator.outboundSPI == 0x5001)
        #expect(core.nextDeadline == t0.adding(seconds: core.deferredOutboundSeconds))
        core.fireTimers(now: t0.adding(seconds: core.deferredOutboundSeconds))
        #expect(dp.initiator.log.last == "activate \(0x6000)" && dp.initiator.outboundSPI == 0x6001)
        // The peer deletes the old IKE SA: reported as a reauthentication, not a tunnel-down.
        let old = try #require(factory.made.first)
        old.onReceive = nil
        old.events = [.childSADeleted(inboundSPI: 0x5000, outboundSPI: 0x5001), .ikeSADeleted]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: 0xAAAA, spiR: old.spi, exchange: 37, initiator: true, response: false, messageID: 2),
                                 source: Self.b, destination: Self.a), now: t0.adding(seconds: 20))
        #expect(dp.initiator.inbound == [0x6000] && dp.initiator.outboundSPI == 0x6001, "\(dp.initiator.log) \(core.events)")
        #expect(!core.events.contains { EndpointPair.isFailure($0) })
        let last = try #require(core.events.last)
        guard case .ikeSAReauthenticated(let i, let r, let oi, let or) = last else {
            Issue.record("expected ikeSAReauthenticated, got \(last)")
            return
        }
        #expect((i, r, oi, or) == (0xBBBB, IKESPI(factory.made[1].spi), 0xAAAA, IKESPI(old.spi)))
    }

    /// An initiator core with one established scripted session (IKE SPIs 0x1000/0xBEEF, Child SA
    /// 0x5000) whose reauthentication has started: the second session is `factory.made[1]`.
    static func reauthenticating() throws -> (EndpointProbe, FakeFactory, RekeyDataplaneModel, [IKEEvent]) {
        let factory = FakeFactory()
        let (core, dp) = scripted(factory, initiator: true)
        let t0 = IKEInstant(nanoseconds: 1_000_000_000)
        core.start(now: t0)
        let old = try #require(factory.made.first)
        old.events = [.ikeSAEstablished(initiatorSPI: IKESPI(old.spi), responderSPI: 0xBEEF, proposal: "p", peerIdentity: "gw-b",
                                        local: a, peer: b), .childSAReady(scriptedChildSA(0x5000))]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: old.spi, spiR: 0xBEEF, initiator: false, response: true), source: b,
                                 destination: a), now: t0)
        old.events = [.reauthenticationDue]
        old.nextDeadline = t0.adding(seconds: 500)
        core.fireTimers(now: t0.adding(seconds: 500))
        #expect(factory.made.count == 2 && factory.made[1].initiator && factory.made[1].started.count == 1)
        return (core, factory, dp, [])
    }

    @Test("While this end reauthenticates, another IKE SA of the peer failing changes nothing; the new SA's Child SA then makes the old IKE SA go")
    func unrelatedFailureKeepsTheReauthentication() throws {
        let (core, factory, dp, _) = try Self.reauthenticating()
        let t = IKEInstant(nanoseconds: 600_000_000_000)
        // A half-open IKE SA from the peer's address fails (e.g. a spoofed or abandoned one).
        factory.responderScript = { s, _ in s.events = [.ikeSAFailed(IKEFailure(.timeout, "no IKE_AUTH"))] }
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: 0xCCCC, spiR: 0, initiator: true, response: false), source: Self.b,
                                 destination: Self.a), now: t)
        let (old, new) = (factory.made[0], factory.made[1])
        new.events = [.ikeSAEstablished(initiatorSPI: IKESPI(new.spi), responderSPI: 0xD00D, proposal: "p", peerIdentity: "gw-b",
                                        local: Self.a, peer: Self.b), .childSAReady(scriptedChildSA(0x6000))]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: new.spi, spiR: 0xD00D, initiator: false, response: true), source: Self.b,
                                 destination: Self.a), now: t)
        #expect(dp.initiator.log == ["install \(0x5000)", "install \(0x6000)"] && dp.initiator.outboundSPI == 0x6001)
        #expect(old.closes == [t])
    }

    @Test("A Child SA rekey that completes on the old IKE SA after the reauthentication moved outbound traffic to the new one does not take the traffic back (the peer deletes it with the old IKE SA)")
    func childRekeyOnClosingSAKeepsOutbound() throws {
        let (core, factory, dp, _) = try Self.reauthenticating()
        let t = IKEInstant(nanoseconds: 600_000_000_000)
        let (old, new) = (factory.made[0], factory.made[1])
        new.events = [.ikeSAEstablished(initiatorSPI: IKESPI(new.spi), responderSPI: 0xD00D, proposal: "p", peerIdentity: "gw-b",
                                        local: Self.a, peer: Self.b), .childSAReady(scriptedChildSA(0x6000))]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: new.spi, spiR: 0xD00D, initiator: false, response: true), source: Self.b,
                                 destination: Self.a), now: t)
        #expect(old.closes == [t] && dp.initiator.outboundSPI == 0x6001)
        // The peer's rekey of the old IKE SA's Child SA crossed our Delete of that IKE SA.
        var rekeyed = scriptedChildSA(0x5100)
        rekeyed.replacesInboundSPI = 0x5000
        old.events = [.childSAReady(rekeyed)]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: old.spi, spiR: 0xBEEF, exchange: 36, initiator: false, response: false,
                                                   messageID: 2), source: Self.b, destination: Self.a), now: t)
        #expect(dp.initiator.log.last == "install \(0x5100) idle", "\(dp.initiator.log)")
        #expect(dp.initiator.outboundSPI == 0x6001)
        old.events = [.childSAOutboundActivated(inboundSPI: 0x5100, outboundSPI: 0x5101)]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: old.spi, spiR: 0xBEEF, exchange: 37, initiator: false, response: false,
                                                   messageID: 3), source: Self.b, destination: Self.a), now: t)
        #expect(dp.initiator.outboundSPI == 0x6001, "\(dp.initiator.log)")
        #expect(core.logged("does not take outbound traffic"))
        #expect(dp.violations.isEmpty, "\(dp.violations.prefix(3))")
    }

    @Test("The old IKE SA going first (the peer deleted it) ends the reauthentication: the new SA goes on alone and nothing is closed twice")
    func oldSAGoneFirst() throws {
        let (core, factory, dp, _) = try Self.reauthenticating()
        let before = core.events.count
        var reported: [IKEEvent] { Array(core.events.dropFirst(before)) }
        let t = IKEInstant(nanoseconds: 600_000_000_000)
        let (old, new) = (factory.made[0], factory.made[1])
        old.events = [.childSADeleted(inboundSPI: 0x5000, outboundSPI: 0x5001), .ikeSADeleted]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: old.spi, spiR: 0xBEEF, exchange: 37, initiator: false, response: false,
                                                   messageID: 2), source: Self.b, destination: Self.a), now: t)
        // Nothing carries the tunnel meanwhile: that is a real deletion, reported as one.
        #expect(reported.contains { if case .ikeSADeleted = $0 { true } else { false } })
        new.events = [.ikeSAEstablished(initiatorSPI: IKESPI(new.spi), responderSPI: 0xD00D, proposal: "p", peerIdentity: "gw-b",
                                        local: Self.a, peer: Self.b), .childSAReady(scriptedChildSA(0x6000))]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: new.spi, spiR: 0xD00D, initiator: false, response: true), source: Self.b,
                                 destination: Self.a), now: t)
        #expect(old.closes.isEmpty)
        #expect(dp.initiator.inbound == [0x6000] && dp.initiator.outboundSPI == 0x6001)
        #expect(core.liveSessionCount == 1)
        // No retry or re-initiation is pending for a tunnel that is up.
        core.fireTimers(now: t.adding(seconds: 100))
        #expect(factory.made.count == 2)
    }
}
