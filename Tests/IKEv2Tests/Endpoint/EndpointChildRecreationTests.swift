@testable import IKEv2
import NetTypes
import Testing

/// A tunnel whose last Child SA was deleted while its IKE SA lives on (RFC 7296 §1.4.1) is built
/// again by the topology's initiator after the retry delay, or by the responder after twice
/// that, through a reauthentication (§2.8.3):
/// two endpoints with real engines over an in-memory link (`EndpointPair`:
/// A initiates, B responds, retry delay 10 s), a fake clock and seeded randomness.
struct EndpointChildRecreationTests {
    typealias Pair = EndpointPair

    /// An established pair whose only Child SA `deleter` deletes (`viaduct terminate --child`);
    /// returns the time of the deletion (seconds on the pair's clock).
    static func childDeleted(by deleter: String) throws -> (Pair, Double) {
        // A reauthenticates on its own only at 540 s, B not for hours: nothing else rebuilds the tunnel.
        let pair = try Pair(reauthenticating: true)
        pair.start()
        #expect(pair.armed)
        pair.run(until: 20)
        pair.armed = false  // the tunnel is down for a while, on purpose
        let (core, peer) = deleter == "A" ? (pair.coreA, "gw-b") : (pair.coreB, "gw-a")
        #expect(core.perform(.deleteChild, peer: peer, now: pair.now) == nil)
        pair.exchange()
        #expect(pair.dpA.inbound.isEmpty && pair.dpA.outboundSPI == nil)
        #expect(pair.dpB.inbound.isEmpty && pair.dpB.outboundSPI == nil)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
        return (pair, pair.now.seconds(since: IKEInstant(nanoseconds: 0)))
    }

    /// The tunnel carries traffic again on one new IKE SA: each side sends on an SA the other has
    /// installed inbound, A opened the new IKE SA without INITIAL_CONTACT and the old one is gone.
    static func expectRebuilt(_ pair: Pair, oldSPIs: (IKESPI, IKESPI)) throws {
        #expect(pair.factoryA.made.count == 2)
        let second = try #require(pair.factoryA.made.last)
        #expect(second.initiator && !second.initialContact)
        #expect(pair.factoryB.made.count == 2 && pair.factoryB.made.allSatisfy { !$0.initiator })
        #expect(pair.dpA.inbound.count == 1 && pair.dpB.inbound.count == 1)
        #expect(pair.dpA.outboundSPI.map { pair.dpB.inbound.contains($0) } == true)
        #expect(pair.dpB.outboundSPI.map { pair.dpA.inbound.contains($0) } == true)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
        for side in ["A", "B"] {
            let r = pair.events.compactMap { e -> (IKESPI, IKESPI, IKESPI, IKESPI)? in
                if e.side == side, case .ikeSAReauthenticated(let i, let r, let oi, let or) = e.event { (i, r, oi, or) } else { nil }
            }
            #expect(r.count == 1, "\(side)")
            if let r = r.first { #expect(r.2 == oldSPIs.0 && r.3 == oldSPIs.1 && r.0 != oldSPIs.0) }
            #expect(pair.count(side, EndpointPair.isFailure) == 0, "\(side)")
        }
        #expect(pair.coreA.endpoint.childRecreations.isEmpty)
    }

    static func ikeSPIs(_ pair: Pair) throws -> (IKESPI, IKESPI) {
        let up = pair.events.compactMap { e -> (IKESPI, IKESPI)? in
            if e.side == "A", case .ikeSAEstablished(let i, let r, _, _, _, _) = e.event { (i, r) } else { nil }
        }
        return try #require(up.first)
    }

    @Test("The peer deletes the only Child SA: after the retry delay the initiator opens a new IKE SA with a Child SA (no INITIAL_CONTACT), then deletes the old IKE SA",
          arguments: ["B", "A"])
    func rebuiltAfterDelete(by deleter: String) throws {
        let (pair, t) = try Self.childDeleted(by: deleter)
        let old = try Self.ikeSPIs(pair)
        #expect(pair.coreA.logged("tunnel has no Child SA left: re-establishing in 10s"))
        #expect(pair.coreA.nextDeadline.map { $0 <= pair.now.adding(seconds: 10) } == true)
        // Nothing before the delay.
        pair.run(until: t + 9)
        #expect(pair.factoryA.made.count == 1 && pair.dpA.outboundSPI == nil)
        pair.run(until: t + 12)
        #expect(pair.coreA.logged("re-establishing the tunnel: a new IKE SA with a Child SA"))
        try Self.expectRebuilt(pair, oldSPIs: old)
        // And it stays up: nothing else happens until A's own reauthentication time.
        pair.armed = true
        pair.run(until: 500)
        #expect(pair.factoryA.made.count == 2 && pair.factoryB.made.count == 2)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
    }

    @Test("The responder side waits twice the retry delay for its peer to create the Child SA, then rebuilds the tunnel itself")
    func responderWaitsThenRebuilds() throws {
        let (pair, t) = try Self.childDeleted(by: "A")
        let old = try Self.ikeSPIs(pair)
        // A's re-establishment is far away: B gives it twice the delay (20 s), then acts.
        pair.coreA.endpoint.table.timers[.recreateChild(peer: 0)] = pair.now.adding(seconds: 400)
        #expect(pair.coreB.logged("tunnel has no Child SA left: re-establishing in 20s unless the peer creates it first"))
        pair.run(until: t + 19)
        #expect(pair.factoryB.made.count == 1 && !pair.coreB.logged("re-establishing the tunnel:"))
        #expect(pair.dpA.inbound.isEmpty && pair.dpB.inbound.isEmpty)
        pair.run(until: t + 22)
        #expect(pair.coreB.logged("re-establishing the tunnel: a new IKE SA with a Child SA"))
        // B opened the new IKE SA this time; the tunnel carries traffic again on it alone.
        #expect(pair.factoryB.made.count == 2 && pair.factoryB.made[1].initiator && !pair.factoryB.made[1].initialContact)
        #expect(pair.dpA.inbound.count == 1 && pair.dpB.inbound.count == 1)
        #expect(pair.dpA.outboundSPI.map { pair.dpB.inbound.contains($0) } == true)
        #expect(pair.dpB.outboundSPI.map { pair.dpA.inbound.contains($0) } == true)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
        #expect(pair.coreA.endpoint.childRecreations.isEmpty)
        let reauthenticated = pair.events.filter { if case .ikeSAReauthenticated(_, _, let oi, let or) = $0.event { oi == old.0 && or == old.1 } else { false } }
        #expect(reauthenticated.count == 2, "\(reauthenticated)")
    }

    @Test("A Child SA re-created by the peer in time (its own new IKE SA) cancels this end's re-establishment")
    func peerRebuildsFirst() throws {
        let (pair, t) = try Self.childDeleted(by: "B")
        #expect(pair.coreA.endpoint.childRecreations.count == 1)
        pair.run(until: t + 3)
        let old = try #require(pair.coreB.endpoint.table.sessions.first { !$0.value.finished }?.key)
        pair.coreB.endpoint.startReauthentication(replacing: old, peerIndex: 0, now: pair.now)
        pair.exchange()
        #expect(pair.coreA.endpoint.childRecreations.isEmpty)
        #expect(pair.coreA.logs.contains { $0.message == "tunnel re-establishment cancelled" && $0.metadata["reason"] == "a Child SA is installed again" })
        pair.run(until: t + 30)
        // A only answered B's new IKE SA; it opened none of its own.
        #expect(pair.factoryA.made.count == 2 && !pair.factoryA.made[1].initiator, "\(pair.factoryA.made)")
        #expect(pair.factoryB.made.count == 2 && pair.factoryB.made[1].initiator, "\(pair.factoryB.made)")
        #expect(pair.dpA.inbound.count == 1 && pair.dpB.inbound.count == 1)
        #expect(pair.dpA.outboundSPI.map { pair.dpB.inbound.contains($0) } == true)
        #expect(pair.dpB.outboundSPI.map { pair.dpA.inbound.contains($0) } == true)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
    }

    @Test("The IKE SA deleted too before the delay: the re-establishment is cancelled and the usual re-initiation (with INITIAL_CONTACT) takes over")
    func ikeSAGoneFirst() throws {
        let (pair, t) = try Self.childDeleted(by: "B")
        #expect(pair.coreB.perform(.deleteIKE, peer: "gw-a", now: pair.now) == nil)
        pair.exchange()
        #expect(pair.coreA.endpoint.childRecreations.isEmpty)
        #expect(pair.coreA.logs.contains { $0.message == "tunnel re-establishment cancelled" && $0.metadata["reason"] == "no IKE SA left: re-initiation takes over" })
        pair.run(until: t + 12)
        #expect(pair.factoryA.made.count == 2 && pair.factoryA.made[1].initialContact)
        #expect(pair.dpA.inbound.count == 1 && pair.dpB.inbound.count == 1)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
    }

    @Test("Shutting down cancels a pending re-establishment")
    func shutdownCancels() throws {
        let (pair, t) = try Self.childDeleted(by: "B")
        #expect(pair.coreA.endpoint.childRecreations.count == 1)
        // The peer no longer answers, so the Delete of the IKE SA stays unanswered past the delay.
        pair.drop = { _ in true }
        #expect(pair.coreA.closeAll(now: pair.now) == 1)
        #expect(pair.coreA.endpoint.childRecreations.isEmpty)
        pair.run(until: t + 30)
        #expect(pair.factoryA.made.count == 1)
        #expect(!pair.coreA.logged("re-establishing the tunnel:"))
    }
}
