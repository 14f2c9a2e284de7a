import CryptoCore
@testable import IKEv2
import NetTypes
import Testing

/// RFC 7296 §2.8.1 (simultaneous Child SA rekeying) and §2.25.1 (collisions with a Delete): the
/// datagrams are held and delivered by hand in each order the RFC discusses, with the
/// data-plane model checking make-before-break at every event.
struct EngineRekeyCollisionTests {
    typealias Tunnel = (net: SimulationNetwork, model: RekeyDataplaneModel)

    static func tunnel(seed: UInt64, esp: ESPAlgorithmSet = Proposals.espGCM256) throws -> Tunnel {
        let t = try EngineRekeyTests.tunnel(esp: esp, seed: seed)
        t.0.hold = true
        return t
    }

    static func from(_ endpoint: IKEEndpoint, _ held: [IKEDatagram]) -> [IKEDatagram] {
        held.filter { $0.source.address == endpoint.address }
    }

    /// Delivers everything held, then lets the network run freely until things settle.
    static func release(_ net: SimulationNetwork) {
        net.hold = false
        for d in net.takeHeld() { net.deliver(d) }
        net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 120)
    }

    /// The outcome §2.8.1 prescribes, from the four nonces each side holds once both requests
    /// were answered: true when the initiator's exchange holds the lowest nonce (its new SA is
    /// redundant and the responder's survives).
    static func initiatorExchangeLoses(_ a: IKESession, _ b: IKESession) throws -> (Bool, survivorAtA: ESPSPI, survivorAtB: ESPSPI) {
        guard case .rekeyChild(let ca)? = a.up?.activeTask, case .rekeyChild(let cb)? = b.up?.activeTask,
              let xa = ca.collision, let xb = cb.collision else {
            throw CollisionSetupError()
        }
        // A's exchange: Ni = ca.nonce, Nr = xb.nonceR. B's exchange: Ni = cb.nonce, Nr = xa.nonceR.
        #expect(xb.nonceI == ca.nonce && xa.nonceI == cb.nonce)
        let lowest = [ca.nonce, xb.nonceR, cb.nonce, xa.nonceR].min { $0.lexicographicallyPrecedes($1) }
        let aLoses = lowest == ca.nonce || lowest == xb.nonceR
        return aLoses ? (true, xa.newInboundSPI, cb.newInboundSPI) : (false, ca.newInboundSPI, xb.newInboundSPI)
    }

    struct CollisionSetupError: Error {}

    enum Order: String, CaseIterable {
        /// Both responses arrive, the initiator's first.
        case responsesInitiatorFirst
        /// Both responses arrive, the responder's first.
        case responsesResponderFirst
        /// The winner's Delete of the old SA overtakes the loser's own response.
        case deleteOvertakesLoserResponse
    }

    @Test("§2.8.1 both rekeys cross: the SA with the lowest nonce is closed by its creator, both sides keep the other",
          arguments: Order.allCases, [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func simultaneousRekeys(order: Order, seed: UInt64) throws {
        let (net, model) = try Self.tunnel(seed: seed)
        let (a, b) = (net.initiator, net.responder)
        let old = try #require(a.childSA)
        a.rekeyChildSA(now: net.now)
        b.rekeyChildSA(now: net.now)
        let requests = net.takeHeld()
        #expect(requests.count == 2)
        // HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} --> crosses <-- HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr}
        for d in requests { net.deliver(d) }
        let (aLoses, survivorA, survivorB) = try Self.initiatorExchangeLoses(a, b)
        let responses = net.takeHeld()
        let toA = Self.from(SimulationSetup.gw2, responses), toB = Self.from(SimulationSetup.gw1, responses)
        #expect(toA.count == 1 && toB.count == 1)
        switch order {
        case .responsesInitiatorFirst:
            for d in toA + toB { net.deliver(d) }
        case .responsesResponderFirst:
            for d in toB + toA { net.deliver(d) }
        case .deleteOvertakesLoserResponse:
            let (winnerResponse, loserResponse, winner) = aLoses ? (toB, toA, SimulationSetup.gw2) : (toA, toB, SimulationSetup.gw1)
            for d in winnerResponse { net.deliver(d) }
            // HDR, SK {D(old)} from the winner reaches the loser before its CREATE_CHILD_SA answer.
            let deletes = Self.from(winner, net.takeHeld())
            #expect(deletes.count == 1)
            for d in deletes { net.deliver(d) }
            for d in loserResponse { net.deliver(d) }
        }
        Self.release(net)
        EngineRekeyTests.expectConverged(net, model)
        #expect(a.childSA?.inboundSPI == survivorA && b.childSA?.inboundSPI == survivorB,
                "lowest nonce in the \(aLoses ? "initiator" : "responder")'s exchange, yet the other SA survived")
        #expect(a.childSA?.inboundSPI != old.inboundSPI)
        // Each side deleted exactly two SAs: the old one and one redundant one.
        for events in [net.initiatorEvents, net.responderEvents] {
            #expect(events.filter { if case .childSADeleted = $0 { true } else { false } }.count == 2)
        }
    }

    @Test("§2.8.1: over seeds, both the initiator's and the responder's exchange lose the nonce comparison")
    func bothOutcomesOccur() throws {
        var outcomes: Set<Bool> = []
        for seed in 1...8 as ClosedRange<UInt64> {
            let (net, _) = try Self.tunnel(seed: seed)
            net.initiator.rekeyChildSA(now: net.now)
            net.responder.rekeyChildSA(now: net.now)
            for d in net.takeHeld() { net.deliver(d) }
            outcomes.insert(try Self.initiatorExchangeLoses(net.initiator, net.responder).0)
        }
        #expect(outcomes == [true, false])
    }

    @Test("§2.25.1 half collision: one side finishes and deletes the old SA before the other's request arrives (TEMPORARY_FAILURE or CHILD_SA_NOT_FOUND)",
          arguments: [true, false], [false, true])
    func halfCollision(initiatorFinishesFirst: Bool, requestAfterDelete: Bool) throws {
        let (net, model) = try Self.tunnel(seed: 3)
        let (first, second) = initiatorFinishesFirst ? (net.initiator, net.responder) : (net.responder, net.initiator)
        let firstEnd = initiatorFinishesFirst ? SimulationSetup.gw1 : SimulationSetup.gw2
        let secondEnd = initiatorFinishesFirst ? SimulationSetup.gw2 : SimulationSetup.gw1
        first.rekeyChildSA(now: net.now)
        second.rekeyChildSA(now: net.now)
        let requests = net.takeHeld()
        let firstRequest = Self.from(firstEnd, requests), secondRequest = Self.from(secondEnd, requests)
        // `second` answers `first`'s request (it notes the collision); `first` completes first.
        for d in firstRequest { net.deliver(d) }
        for d in net.takeHeld() { net.deliver(d) }
        let survivor = try #require(first.childSAs.first { $0.activateOutbound && $0.replacesInboundSPI != nil })
        let delete = Self.from(firstEnd, net.takeHeld())
        #expect(delete.count == 1)
        if requestAfterDelete {
            // HDR, SK {D(old)} done first: the late rekey request names an SA that no longer exists.
            for d in delete { net.deliver(d) }
            for d in net.takeHeld() { net.deliver(d) }
            for d in secondRequest { net.deliver(d) }
        } else {
            // The late rekey request arrives while the old SA is being deleted.
            for d in secondRequest { net.deliver(d) }
            for d in delete { net.deliver(d) }
        }
        Self.release(net)
        EngineRekeyTests.expectConverged(net, model)
        #expect(first.childSA?.inboundSPI == survivor.inboundSPI)
    }

    @Test("§2.25.1 a rekey crossing a Delete of the same Child SA leaves no half-created SA",
          arguments: [true, false], [true, false])
    func rekeyCrossingDelete(initiatorRekeys: Bool, deleteFirst: Bool) throws {
        let (net, _) = try Self.tunnel(seed: 5)
        let (rekeyer, deleter) = initiatorRekeys ? (net.initiator, net.responder) : (net.responder, net.initiator)
        let deleterEnd = initiatorRekeys ? SimulationSetup.gw2 : SimulationSetup.gw1
        rekeyer.rekeyChildSA(now: net.now)
        let victim = try #require(deleter.childSA)
        deleter.deleteChildSA(inboundSPI: victim.inboundSPI, now: net.now)
        let held = net.takeHeld()
        let del = Self.from(deleterEnd, held), rekey = held.filter { !del.contains($0) }
        for d in deleteFirst ? del + rekey : rekey + del { net.deliver(d) }
        Self.release(net)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.childSAs.isEmpty && net.responder.childSAs.isEmpty,
                "initiator \(net.initiator.childSAs.map(\.inboundSPI)), responder \(net.responder.childSAs.map(\.inboundSPI))")
        // Every SA that was ever announced was also removed, on both sides.
        for events in [net.initiatorEvents, net.responderEvents] {
            let ready = Set(events.compactMap(\.child).map(\.inboundSPI))
            let deleted = Set(events.compactMap { if case .childSADeleted(let i, _) = $0 { i } else { nil } })
            #expect(ready == deleted)
        }
    }

    @Test("A rekey request lost while the peer rekeys the same SA: the retransmission meets a finished rekey")
    func rekeyWhileRetransmissionPending() throws {
        let (net, model) = try Self.tunnel(seed: 7)
        net.initiator.rekeyChildSA(now: net.now)
        _ = net.takeHeld()  // lost: the initiator will retransmit
        net.advance(seconds: 1)
        net.responder.rekeyChildSA(now: net.now)
        Self.release(net)
        EngineRekeyTests.expectConverged(net, model)
        let retransmitted = EngineRekeyTests.exchanges(net, from: SimulationSetup.gw1, .createChildSA, response: false)
        #expect(retransmitted.count >= 2 && retransmitted[0].bytes == retransmitted[1].bytes)
    }

    @Test("A rekey due while a liveness check waits for its retransmission runs after it, never two requests at once")
    func rekeyQueuedBehindLiveness() throws {
        let (net, model) = try EngineRekeyTests.tunnel(configure: { $0.dpdInterval = 10 })
        var droppedOne = false
        net.blackhole = { d in
            guard !droppedOne, d.source == SimulationSetup.gw1,
                  (try? IKEHeader(decoding: d.bytes))?.exchangeType == .informational else { return false }
            droppedOne = true
            return true
        }
        net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 11)
        #expect(droppedOne)
        net.initiator.rekeyChildSA(now: net.now)
        net.drain()
        // Window size 1 (§2.3): nothing new on the wire while the liveness check is unanswered.
        #expect(EngineRekeyTests.exchanges(net, from: SimulationSetup.gw1, .createChildSA, response: false).isEmpty)
        net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 60)
        EngineRekeyTests.expectConverged(net, model)
        #expect(EngineRekeyTests.exchanges(net, from: SimulationSetup.gw1, .createChildSA, response: false).count == 1)
    }
}
