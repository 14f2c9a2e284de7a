@testable import IKEv2
import Testing

/// Duplicate IKE SAs with one peer that are not a reauthentication in progress are reduced to
/// one, the same at both ends, make-before-break (IKESAManager+DuplicateIKESAs.swift): two
/// endpoints with real engines over an in-memory link (`EndpointPair`: A is the topology's
/// initiator, B its responder), a fake clock, seeded randomness, and the pair's check after every
/// data-plane action that each side sends on an SA the other has installed.
struct EndpointDuplicateIKESATests {
    typealias Pair = EndpointPair

    /// The (initiator SPI, responder SPI) of each live IKE SA of a core, sorted.
    static func liveSPIs(_ core: EndpointProbe) -> [[UInt64]] {
        core.endpoint.ikeSAs.filter { !$0.finished }.compactMap { $0.spis?.map(\.rawValue) }.sorted {
            $0.lexicographicallyPrecedes($1)
        }
    }

    /// The SPIs of the live IKE SAs `core` created (it sent their IKE_SA_INIT).
    static func createdSPIs(_ core: EndpointProbe) -> [[UInt64]] {
        core.endpoint.ikeSAs.filter { !$0.finished && $0.createdHere }.compactMap { $0.spis?.map(\.rawValue) }
    }

    /// Makes `core` open one more IKE SA with its Child SA to its only peer, without
    /// INITIAL_CONTACT and not as a reauthentication: what a peer that also initiates does.
    static func openAnother(_ core: EndpointProbe, now: IKEInstant) throws {
        let current = try #require(core.endpoint.table.sessions.filter { !$0.value.finished }.map(\.key).max())
        core.endpoint.startReauthentication(replacing: current, peerIndex: 0, now: now)
        try #require(core.endpoint.table[peer: 0].reauthentication != nil)
        core.endpoint.table[peer: 0].reauthentication = nil
    }

    static func seconds(_ pair: Pair) -> Double { pair.now.seconds(since: IKEInstant(nanoseconds: 0)) }

    /// One IKE SA left at each end, the same one, its Child SA carrying traffic both ways.
    static func expectOneSurvivor(_ pair: Pair, expected: [UInt64]? = nil) {
        let a = liveSPIs(pair.coreA), b = liveSPIs(pair.coreB)
        #expect(a.count == 1 && a == b, "A \(a) B \(b)")
        if let expected { #expect(a == [expected], "A \(a), expected \(expected)") }
        #expect(pair.dpA.inbound.count == 1 && pair.dpB.inbound.count == 1)
        #expect(pair.dpA.outboundSPI.map { pair.dpB.inbound.contains($0) } == true)
        #expect(pair.dpB.outboundSPI.map { pair.dpA.inbound.contains($0) } == true)
        #expect(pair.count("A", EndpointPair.isFailure) == 0)
        #expect(pair.count("B", EndpointPair.isFailure) == 0)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
    }

    @Test("Both ends open another IKE SA at the same instant: after the grace one IKE SA is left, the same at both ends (created by the topology initiator, highest SPI pair), with its Child SA, and no moment without an outbound SA the peer can decrypt")
    func bothEndsOpenOneAtOnce() throws {
        let pair = try Pair(reauthenticating: true)  // A reauthenticates only at 540 s
        pair.start()
        #expect(pair.armed)
        pair.run(until: 20)
        let t = Self.seconds(pair)
        try Self.openAnother(pair.coreA, now: pair.now)
        try Self.openAnother(pair.coreB, now: pair.now)
        pair.exchange()
        #expect(Self.liveSPIs(pair.coreA).count == 3 && Self.liveSPIs(pair.coreA) == Self.liveSPIs(pair.coreB))
        let fromA = Self.createdSPIs(pair.coreA)
        #expect(fromA.count == 2)
        let expected = try #require(fromA.max { $0.lexicographicallyPrecedes($1) })
        // Within the grace nothing is reduced (a peer's own reauthentication would end first).
        pair.run(until: t + pair.coreA.duplicateGraceSeconds - 2)
        #expect(Self.liveSPIs(pair.coreA).count == 3 && Self.liveSPIs(pair.coreB).count == 3)
        pair.run(until: t + pair.coreA.duplicateGraceSeconds + 5)
        Self.expectOneSurvivor(pair, expected: expected)
        #expect(pair.coreA.logged("duplicate IKE SA with gw-b: keeping SPIs"))
        #expect(pair.coreB.logged("duplicate IKE SA with gw-a: keeping SPIs"))
        // Each loser was reported as replaced, not as a tunnel-down, at both ends.
        #expect(pair.count("A", EndpointPair.isReauthenticated) == 2)
        #expect(pair.count("B", EndpointPair.isReauthenticated) == 2)
        // And it stays that way.
        pair.run(until: 300)
        Self.expectOneSurvivor(pair, expected: expected)
    }

    @Test("Both ends reauthenticate at the same instant: both old-SA Deletes cross, then the two new IKE SAs are reduced to the topology initiator's, the same at both ends; the next round does it again")
    func bothEndsReauthenticateAtOnce() throws {
        let pair = try Pair(reauthenticating: true, both: true)
        pair.start()
        #expect(pair.armed)
        pair.run(until: 530)
        #expect(Self.liveSPIs(pair.coreA).count == 1)
        pair.run(until: 545)
        // Each end made its own new IKE SA and deleted the old one.
        #expect(pair.factoryA.made.map(\.initiator) == [true, true, false], "\(pair.factoryA.made)")
        #expect(pair.factoryB.made.map(\.initiator) == [false, true, false], "\(pair.factoryB.made)")
        let fromA = Self.createdSPIs(pair.coreA)
        pair.run(until: 545 + pair.coreA.duplicateGraceSeconds + 5)
        #expect(fromA.count == 1)
        Self.expectOneSurvivor(pair, expected: fromA.first)
        pair.run(until: 1_200)
        Self.expectOneSurvivor(pair)
    }

    @Test("The peer reauthenticates and its Delete of the old IKE SA is held up for 20 s: the two IKE SAs are not reduced meanwhile, the peer's own Delete ends it, nothing is deleted twice")
    func peersReauthenticationIsNotRaced() throws {
        let pair = try Pair(reauthenticating: false)  // B reauthenticates at 540 s
        pair.start()
        var blocked = false
        pair.drop = { d in
            guard blocked, d.source.address == Pair.b.address, let r = try? IKEHeader(decoding: d.bytes) else { return false }
            return r.exchangeType == .informational && !r.isResponse
        }
        pair.run(until: 535)
        blocked = true
        pair.run(until: 562)
        #expect(Self.liveSPIs(pair.coreA).count == 2)
        blocked = false
        pair.run(until: 600)
        #expect(!pair.coreA.logged("duplicate IKE SA") && !pair.coreB.logged("duplicate IKE SA"))
        #expect(pair.factoryA.made.map(\.initiator) == [true, false] && pair.factoryB.made.map(\.initiator) == [false, true])
        #expect(pair.count("A", EndpointPair.isReauthenticated) == 1)
        #expect(pair.count("B", EndpointPair.isReauthenticated) == 1)
        Self.expectOneSurvivor(pair)
    }

    @Test("A peer without the rule keeps its losing IKE SA: after the grace and three more, this end deletes it itself, make-before-break")
    func peerKeepingItsLoserIsDeletedForIt() throws {
        let pair = try Pair(reauthenticating: true)
        pair.coreB.duplicateGraceSeconds = 1_000_000  // B never reduces
        pair.start()
        pair.run(until: 20)
        let t = Self.seconds(pair)
        let first = Self.liveSPIs(pair.coreA)
        try Self.openAnother(pair.coreB, now: pair.now)
        pair.exchange()
        #expect(Self.liveSPIs(pair.coreA).count == 2)
        pair.run(until: t + 3 * pair.coreA.duplicateGraceSeconds)
        #expect(Self.liveSPIs(pair.coreA).count == 2 && Self.liveSPIs(pair.coreB).count == 2)
        pair.run(until: t + 4 * pair.coreA.duplicateGraceSeconds + 5)
        Self.expectOneSurvivor(pair, expected: first.first)
        #expect(pair.coreA.logs.contains { $0.message.hasPrefix("duplicate IKE SA with gw-b") && $0.metadata["reason"] == "the peer kept it" })
    }
    @Test("This end reauthenticates and the answer to its Delete of the old IKE SA is lost for longer than the grace: the old SA, being deleted, takes no part, so the new one is never reduced away", arguments: [true, false])
    func ownReauthenticationWaitingForItsDelete(byA: Bool) throws {
        let pair = try Pair(reauthenticating: byA)
        pair.start()
        let peerAddress = byA ? Pair.b.address : Pair.a.address
        var blocked = false
        pair.drop = { d in
            guard blocked, d.source.address == peerAddress, let r = try? IKEHeader(decoding: d.bytes) else { return false }
            return r.exchangeType == .informational && r.isResponse
        }
        pair.run(until: 535)
        blocked = true
        pair.run(until: 540 + 2 * pair.coreA.duplicateGraceSeconds)
        blocked = false
        pair.run(until: 800)
        #expect(!pair.coreA.logged("duplicate IKE SA") && !pair.coreB.logged("duplicate IKE SA"))
        // The peer took the Delete (reported as a reauthentication); this end's old session gave
        // up waiting for the answer, which is no tunnel-down either.
        #expect(pair.count(byA ? "B" : "A", EndpointPair.isReauthenticated) == 1)
        #expect(pair.count("A", EndpointPair.isFailure) == 0)
        #expect(pair.count("B", EndpointPair.isFailure) == 0)
        let a = Self.liveSPIs(pair.coreA), b = Self.liveSPIs(pair.coreB)
        #expect(a.count == 1 && a == b, "A \(a) B \(b)")
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
    }
}

extension EndpointDuplicateIKESATests {
    @Test("Both ends open their first IKE SA at the same instant, each with INITIAL_CONTACT (the topology's responder initiates too, like a strongSwan peer with start_action=start): neither end's INITIAL_CONTACT drops its own SA still in its handshake, and the two IKE SAs are reduced to the topology initiator's at both ends")
    func bothStartAtOnceWithInitialContact() throws {
        let pair = try Pair(reauthenticating: true)  // A reauthenticates only at 540 s
        pair.coreA.start(now: pair.now)
        pair.coreB.start(now: pair.now)
        pair.coreB.endpoint.initiate(peerIndex: 0, now: pair.now)
        pair.exchange()
        #expect(pair.factoryA.made.map(\.initiator) == [true, false] && pair.factoryB.made.map(\.initiator) == [true, false])
        // Both IKE SAs came up at both ends (before, each end's INITIAL_CONTACT dropped its own
        // half-open SA and each end was left with a different one).
        let a = Self.liveSPIs(pair.coreA)
        #expect(a.count == 2 && a == Self.liveSPIs(pair.coreB), "A \(a) B \(Self.liveSPIs(pair.coreB))")
        let fromA = Self.createdSPIs(pair.coreA)
        pair.armed = pair.dpA.outboundSPI != nil && pair.dpB.outboundSPI != nil
        #expect(pair.armed)
        pair.run(until: Self.seconds(pair) + pair.coreA.duplicateGraceSeconds + 5)
        #expect(fromA.count == 1)
        Self.expectOneSurvivor(pair, expected: fromA.first)
        pair.run(until: 300)
        Self.expectOneSurvivor(pair, expected: fromA.first)
    }
}
