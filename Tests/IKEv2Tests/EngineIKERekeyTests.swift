import CryptoCore
@testable import IKEv2
import NetTypes
import Testing

/// RFC 7296 §1.3.2 / §2.18: rekeying the IKE SA with CREATE_CHILD_SA (always with KE), from
/// either side, on the timer and on demand; §2.8.2 collisions in every order; §2.25.2 crossings
/// with a Delete and with Child SA rekeys; loss. The data-plane model checks at every event
/// that the Child SAs keep an outbound SA the peer can decrypt while the IKE SA changes.
struct EngineIKERekeyTests {
    typealias Tunnel = (net: SimulationNetwork, model: RekeyDataplaneModel)

    static func tunnel(ike: IKEAlgorithmSet = Proposals.gcm256, seed: UInt64 = 1,
                       configure: (inout SimulationSetup) -> Void = { _ in },
                       impairmentSeed: UInt64 = 0, impairment: SimulationNetwork.Impairment = .none) throws -> Tunnel {
        try EngineRekeyTests.tunnel(ike: ike, configure: configure, seed: seed, impairmentSeed: impairmentSeed,
                                    impairment: impairment)
    }

    static func rekeyedEvents(_ events: [IKEEvent]) -> [(IKESPI, IKESPI, IKESPI, IKESPI)] {
        events.compactMap { if case .ikeSARekeyed(let i, let r, _, let oi, let or) = $0 { (i, r, oi, or) } else { nil } }
    }

    static func childDeletes(_ events: [IKEEvent]) -> Int {
        events.filter { if case .childSADeleted = $0 { true } else { false } }.count
    }

    /// Both sides on the same IKE SA with the same keys, opposite roles, nothing else left over;
    /// the Child SAs converged and never without an outbound SA.
    static func expectSameIKESA(_ net: SimulationNetwork, _ model: RekeyDataplaneModel, settle: Bool = true,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let (a, b) = (net.initiator, net.responder)
        // A deleted old or redundant SA lingers only to answer retransmissions of its Delete.
        let (sidesA, sidesB) = (net.sides(a), net.sides(b))
        #expect(sidesA.allSatisfy(\.closed) && sidesB.allSatisfy(\.closed), "open: \(sidesA.map(\.purpose)) / \(sidesB.map(\.purpose))", sourceLocation: sourceLocation)
        if settle { net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 200) }
        #expect(a.state == .established && b.state == .established, "\(a.state) / \(b.state)", sourceLocation: sourceLocation)
        #expect(a.initiatorSPI == b.initiatorSPI && a.responderSPI == b.responderSPI, sourceLocation: sourceLocation)
        #expect(a.isInitiator != b.isInitiator, sourceLocation: sourceLocation)
        #expect(bytes(a.keys?.skD) == bytes(b.keys?.skD) && bytes(a.keys?.skEi) == bytes(b.keys?.skEi), sourceLocation: sourceLocation)
        if settle {
            #expect(net.sides(a).isEmpty && net.sides(b).isEmpty, "left over: \(net.sides(a).map(\.purpose)) / \(net.sides(b).map(\.purpose))", sourceLocation: sourceLocation)
        }
        #expect(a.localIKESPIs.first == (a.isInitiator ? a.initiatorSPI : a.responderSPI), sourceLocation: sourceLocation)
        #expect(!settle || a.localIKESPIs.count == 1 && b.localIKESPIs.count == 1, sourceLocation: sourceLocation)
        EngineRekeyTests.expectConverged(net, model, sourceLocation: sourceLocation)
    }

    /// The new SA still works: a Child SA rekey (keyed from the new SK_d) and a liveness check.
    static func expectUsable(_ net: SimulationNetwork, _ model: RekeyDataplaneModel,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let before = net.initiator.childSA?.inboundSPI
        net.responder.rekeyChildSA(now: net.now)
        net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 60)
        #expect(net.initiator.childSA?.inboundSPI != before, "no Child SA rekey on the new IKE SA", sourceLocation: sourceLocation)
        EngineRekeyTests.expectConverged(net, model, sourceLocation: sourceLocation)
    }

    @Test("HDR, SK {SA, Ni, KEi} --> <-- HDR, SK {SA, Nr, KEr}, then HDR(old), SK {D(IKE)}: from either side, for each IKE proposal",
          arguments: [true, false], [Proposals.gcm256, Proposals.gcm128x25519, Proposals.cbc256modp3072, Proposals.gcm256mlkem768])
    func rekey(fromInitiator: Bool, ike: IKEAlgorithmSet) throws {
        let (net, model) = try Self.tunnel(ike: ike)
        let (a, b) = (net.initiator, net.responder)
        let old = (a.initiatorSPI, a.responderSPI, bytes(a.keys?.skD))
        let children = (a.childSAs.map(\.inboundSPI), b.childSAs.map(\.inboundSPI))
        (fromInitiator ? a : b).rekeyIKESA(now: net.now)
        net.run(limit: 120)
        Self.expectSameIKESA(net, model)
        #expect(a.initiatorSPI != old.0 && a.responderSPI != old.1 && bytes(a.keys?.skD) != old.2)
        // §2.18: the rekey's initiator is the original initiator of the new SA.
        #expect((fromInitiator ? a : b).isInitiator)
        // The Child SAs moved unchanged: nothing deleted, nothing reinstalled.
        #expect(a.childSAs.map(\.inboundSPI) == children.0 && b.childSAs.map(\.inboundSPI) == children.1)
        #expect(Self.childDeletes(net.initiatorEvents) == 0 && Self.childDeletes(net.responderEvents) == 0)
        for events in [net.initiatorEvents, net.responderEvents] {
            let r = Self.rekeyedEvents(events)
            #expect(r.count == 1)
            #expect(r.first.map { $0.0 == a.initiatorSPI && $0.1 == a.responderSPI
                && $0.2 == old.0 && $0.3 == old.1 } == true)
        }
        // On the wire: the request carries KE and our new SPI in the proposal; the old SA's
        // Delete goes out from the rekey's initiator, on the old SPIs.
        let side = fromInitiator ? SimulationSetup.gw1 : SimulationSetup.gw2
        let requests = EngineRekeyTests.exchanges(net, from: side, .createChildSA, response: false)
        #expect(requests.count == 1)
        let deletes = EngineRekeyTests.exchanges(net, from: side, .informational, response: false).filter {
            (try? IKEHeader(decoding: $0.bytes)).map { $0.initiatorSPI == old.0 && $0.responderSPI == old.1 } ?? false
        }
        #expect(deletes.count == 1)
        Self.expectUsable(net, model)
    }

    @Test("§2.18 keys: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), SK_* = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), from the exchange's own payloads")
    func keys() throws {
        let (net, _) = try Self.tunnel(ike: Proposals.gcm128x25519)
        let (a, b) = (net.initiator, net.responder)
        let oldSKd = try #require(a.keys?.skD)
        let oldPRF = try #require(a.prf)
        net.hold = true
        a.rekeyIKESA(now: net.now)
        let request = try #require(net.takeHeld().first)
        guard case .rekeyIKE(let context)? = a.up?.activeTask else { Issue.record("no rekey in flight"); return }
        net.deliver(request)
        let response = try #require(net.takeHeld().first)
        // The responder's nonce and KE, read back with the old SA's keys as a passive observer would.
        let message = try IKEMessage(decoding: response.bytes)
        let sk = try #require(message.encryptedPayload)
        let inner = try #require(try? a.protection?.open(raw: response.bytes, sk: sk))
        var nonceR: [UInt8] = [], keR: [UInt8] = []
        for p in inner {
            if case .nonce(let n) = p { nonceR = n.data }
            if case .keyExchange(let k) = p { keR = k.data }
        }
        net.deliver(response)
        let shared = try context.keyExchange.sharedSecret(peerPublicValue: keR)
        let skeyseed = try IKEKeySchedule.rekeyedSKEYSEED(prf: oldPRF, oldSKd: oldSKd, sharedSecret: shared,
                                                          nonceI: context.nonce, nonceR: nonceR)
        let expected = try IKEKeySchedule.deriveIKESAKeys(prf: oldPRF, skeyseed: skeyseed, nonceI: context.nonce, nonceR: nonceR,
                                                          spiI: context.newSPI.rawValue, spiR: b.responderSPI.rawValue,
                                                          encryption: .aesGCM16(keyBits: 128), integrity: nil)
        #expect(a.initiatorSPI == context.newSPI)
        #expect(bytes(a.keys?.skD) == bytes(expected.skD) && bytes(b.keys?.skD) == bytes(expected.skD))
        #expect(bytes(a.keys?.skEr) == bytes(expected.skEr) && bytes(b.keys?.skEi) == bytes(expected.skEi))
    }

    @Test("Soft lifetime: the IKE SA is rekeyed at lifetime - margin - random(0...jitter) after each (re)key, by whichever side's timer fires first")
    func lifetimes() throws {
        let (net, model) = try Self.tunnel(configure: { s in
            s.ikeLifetime = 600
            s.ikeRekeyMargin = 100
            s.ikeRekeyJitter = 50
        })
        var times: [Double] = []
        var initiators: Set<Bool> = []
        net.onEvent = { [model] fromInitiator, e in
            model.apply(fromInitiator, e)
            if fromInitiator, case .ikeSARekeyed = e {
                times.append(net.now.seconds(since: IKEInstant(nanoseconds: 0)))
                initiators.insert(net.initiator.isInitiator)
            }
        }
        net.run(limit: 5_000)
        #expect(times.count >= 9)
        for (x, y) in zip([0] + times, times) {
            #expect(y - x <= 600 - 100 + 1, "IKE rekey after \(y - x)s: margin not honoured")
            #expect(y - x >= 600 - 100 - 50 - 1, "IKE rekey after \(y - x)s: earlier than the jitter allows")
        }
        #expect(initiators == [true, false], "only one side's timer ever fired")
        Self.expectSameIKESA(net, model, settle: false)
    }

    // MARK: §2.8.2 collisions

    enum Order: String, CaseIterable {
        /// Both responses arrive, the initiator's first.
        case responsesInitiatorFirst
        /// Both responses arrive, the responder's first.
        case responsesResponderFirst
        /// The winner's Delete of the old SA overtakes the loser's own response.
        case deleteOvertakesLoserResponse
        /// The loser's Delete of its redundant SA reaches the winner before the winner's response.
        case redundantDeleteOvertakesWinnerResponse
    }

    /// §2.8.2 from the nonces both sides hold once both requests were answered: true when the
    /// initiator's exchange holds the lowest of the four (its new SA is redundant).
    static func initiatorExchangeLoses(_ a: IKESession, _ b: IKESession) throws -> Bool {
        guard case .rekeyIKE(let ca)? = a.up?.activeTask, case .rekeyIKE(let cb)? = b.up?.activeTask,
              let xa = a.up?.candidate, let xb = b.up?.candidate else { throw EngineRekeyCollisionTests.CollisionSetupError() }
        #expect(xb.keying.nonceI == ca.nonce && xa.keying.nonceI == cb.nonce)
        let lowest = [ca.nonce, xb.keying.nonceR, cb.nonce, xa.keying.nonceR].min { $0.lexicographicallyPrecedes($1) }
        return lowest == ca.nonce || lowest == xb.keying.nonceR
    }

    @Test("§2.8.2 both IKE rekeys cross: the new SA with the lowest nonce is deleted by its creator, the other inherits the Child SAs",
          arguments: Order.allCases, [1, 2, 3, 4, 5, 6] as [UInt64])
    func simultaneousRekeys(order: Order, seed: UInt64) throws {
        let (net, model) = try Self.tunnel(seed: seed)
        let (a, b) = (net.initiator, net.responder)
        net.hold = true
        a.rekeyIKESA(now: net.now)
        b.rekeyIKESA(now: net.now)
        let requests = net.takeHeld()
        #expect(requests.count == 2)
        // HDR, SK {SA, Ni, KEi} --> crosses <-- HDR, SK {SA, Ni, KEi}
        for d in requests { net.deliver(d) }
        let aLoses = try Self.initiatorExchangeLoses(a, b)
        guard case .rekeyIKE(let ca)? = a.up?.activeTask, case .rekeyIKE(let cb)? = b.up?.activeTask else { return }
        // The survivor's initiator SPI is the SPI its initiator put in its request.
        let survivorSPI = aLoses ? cb.newSPI : ca.newSPI
        let responses = net.takeHeld()
        let toA = EngineRekeyCollisionTests.from(SimulationSetup.gw2, responses)
        let toB = EngineRekeyCollisionTests.from(SimulationSetup.gw1, responses)
        #expect(toA.count == 1 && toB.count == 1)
        let (winner, loserEnd) = aLoses ? (SimulationSetup.gw2, SimulationSetup.gw1) : (SimulationSetup.gw1, SimulationSetup.gw2)
        let (winnerResponse, loserResponse) = aLoses ? (toB, toA) : (toA, toB)
        switch order {
        case .responsesInitiatorFirst:
            for d in toA + toB { net.deliver(d) }
        case .responsesResponderFirst:
            for d in toB + toA { net.deliver(d) }
        case .deleteOvertakesLoserResponse:
            for d in winnerResponse { net.deliver(d) }
            // HDR(old), SK {D(IKE)} from the winner reaches the loser before its own answer.
            let deletes = EngineRekeyCollisionTests.from(winner, net.takeHeld())
            #expect(deletes.count == 1)
            for d in deletes { net.deliver(d) }
            for d in loserResponse { net.deliver(d) }
        case .redundantDeleteOvertakesWinnerResponse:
            for d in loserResponse { net.deliver(d) }
            // HDR(redundant), SK {D(IKE)} from the loser reaches the winner before its own answer.
            let deletes = EngineRekeyCollisionTests.from(loserEnd, net.takeHeld())
            #expect(deletes.count == 1)
            for d in deletes { net.deliver(d) }
            for d in winnerResponse { net.deliver(d) }
        }
        EngineRekeyCollisionTests.release(net)
        Self.expectSameIKESA(net, model)
        #expect(a.initiatorSPI == survivorSPI, "lowest nonce in the \(aLoses ? "initiator" : "responder")'s exchange, yet the other SA survived")
        for events in [net.initiatorEvents, net.responderEvents] {
            #expect(Self.rekeyedEvents(events).count == 1)
            #expect(Self.childDeletes(events) == 0)
        }
        Self.expectUsable(net, model)
    }

    @Test("§2.8.2: over seeds, both the initiator's and the responder's IKE rekey lose the nonce comparison")
    func bothOutcomesOccur() throws {
        var outcomes: Set<Bool> = []
        for seed in 1...6 as ClosedRange<UInt64> {
            let (net, _) = try Self.tunnel(seed: seed)
            net.hold = true
            net.initiator.rekeyIKESA(now: net.now)
            net.responder.rekeyIKESA(now: net.now)
            for d in net.takeHeld() { net.deliver(d) }
            outcomes.insert(try Self.initiatorExchangeLoses(net.initiator, net.responder))
        }
        #expect(outcomes == [true, false])
    }

    @Test("§2.8.2 only one side sees the collision: the other finished first and answers TEMPORARY_FAILURE on the old SA; its SA survives",
          arguments: [true, false], [false, true])
    func halfCollision(initiatorFinishesFirst: Bool, deleteBeforeRefusal: Bool) throws {
        let (net, model) = try Self.tunnel(seed: 4)
        let (first, second) = initiatorFinishesFirst ? (net.initiator, net.responder) : (net.responder, net.initiator)
        let firstEnd = initiatorFinishesFirst ? SimulationSetup.gw1 : SimulationSetup.gw2
        let secondEnd = initiatorFinishesFirst ? SimulationSetup.gw2 : SimulationSetup.gw1
        net.hold = true
        first.rekeyIKESA(now: net.now)
        second.rekeyIKESA(now: net.now)
        let requests = net.takeHeld()
        guard case .rekeyIKE(let winning)? = first.up?.activeTask else { Issue.record("no rekey in flight"); return }
        // `second` answers `first`'s request (it sees the collision); `first` completes and
        // deletes the old SA before `second`'s request reaches it.
        for d in EngineRekeyCollisionTests.from(firstEnd, requests) { net.deliver(d) }
        for d in EngineRekeyCollisionTests.from(secondEnd, net.takeHeld()) { net.deliver(d) }
        let deleteOld = EngineRekeyCollisionTests.from(firstEnd, net.takeHeld())
        #expect(deleteOld.count == 1)
        #expect(Self.rekeyedEvents(first === net.initiator ? net.initiatorEvents : net.responderEvents).count == 1)
        for d in EngineRekeyCollisionTests.from(secondEnd, requests) { net.deliver(d) }
        let refusal = EngineRekeyCollisionTests.from(firstEnd, net.takeHeld())
        #expect(refusal.count == 1)
        let refusalSK = try #require(try IKEMessage(decoding: refusal[0].bytes).encryptedPayload)
        let answer = try #require(try? second.protection?.open(raw: refusal[0].bytes, sk: refusalSK))
        #expect(answer.contains { $0.notify?.type == .temporaryFailure })
        for d in deleteBeforeRefusal ? deleteOld + refusal : refusal + deleteOld { net.deliver(d) }
        EngineRekeyCollisionTests.release(net)
        Self.expectSameIKESA(net, model)
        #expect(net.initiator.initiatorSPI == winning.newSPI)
        for events in [net.initiatorEvents, net.responderEvents] { #expect(Self.rekeyedEvents(events).count == 1) }
    }

    // MARK: §2.25.2 and §2.1 crossings

    @Test("§2.25.2 an IKE rekey crossing a Delete of the IKE SA: TEMPORARY_FAILURE or forgotten; both sides end closed",
          arguments: [true, false], [true, false])
    func rekeyCrossingDelete(initiatorCloses: Bool, rekeyFirst: Bool) throws {
        let (net, _) = try Self.tunnel()
        let (closer, rekeyer) = initiatorCloses ? (net.initiator, net.responder) : (net.responder, net.initiator)
        net.hold = true
        closer.close(now: net.now)
        rekeyer.rekeyIKESA(now: net.now)
        let requests = net.takeHeld()
        #expect(requests.count == 2)
        for d in rekeyFirst ? requests.reversed() : requests { net.deliver(d) }
        EngineRekeyCollisionTests.release(net)
        #expect(net.initiator.state == .closed && net.responder.state == .closed)
        for events in [net.initiatorEvents, net.responderEvents] {
            #expect(Self.rekeyedEvents(events).isEmpty)
            #expect(events.contains { if case .ikeSADeleted = $0 { true } else { false } })
        }
        #expect(net.initiator.childSAs.isEmpty && net.responder.childSAs.isEmpty)
        #expect(net.initiator.nextDeadline == nil && net.responder.nextDeadline == nil)
    }

    @Test("§2.1 the rekey's answer is lost: the request is resent byte for byte on the old SA and answered from its cache",
          arguments: [true, false])
    func lostResponse(fromInitiator: Bool) throws {
        let (net, model) = try Self.tunnel()
        let responderEnd = fromInitiator ? SimulationSetup.gw2 : SimulationSetup.gw1
        var dropped = 0
        net.blackhole = { d in
            guard dropped == 0, d.source.address == responderEnd.address, let h = try? IKEHeader(decoding: d.bytes),
                  h.exchangeType == .createChildSA, h.isResponse else { return false }
            dropped += 1
            return true
        }
        (fromInitiator ? net.initiator : net.responder).rekeyIKESA(now: net.now)
        net.run(limit: 120)
        #expect(dropped == 1)
        Self.expectSameIKESA(net, model)
        let side = fromInitiator ? SimulationSetup.gw1 : SimulationSetup.gw2
        let sent = EngineRekeyTests.exchanges(net, from: side, .createChildSA, response: false)
        #expect(sent.count == 2 && sent[0].bytes == sent[1].bytes)
        let answers = EngineRekeyTests.exchanges(net, from: responderEnd, .createChildSA, response: true)
        #expect(answers.count == 2 && answers[0].bytes == answers[1].bytes)
        for events in [net.initiatorEvents, net.responderEvents] { #expect(Self.rekeyedEvents(events).count == 1) }
    }

    @Test("A rekey requested while a retransmission is pending waits for that exchange (window size 1), then runs")
    func rekeyBehindRetransmission() throws {
        let (net, model) = try Self.tunnel()
        var dropped = 0
        net.blackhole = { d in
            guard dropped < 2, d.source.address == SimulationSetup.gw2.address, let h = try? IKEHeader(decoding: d.bytes),
                  h.exchangeType == .createChildSA, h.isResponse else { return false }
            dropped += 1
            return true
        }
        net.initiator.rekeyChildSA(now: net.now)
        net.initiator.rekeyIKESA(now: net.now)
        net.run(limit: 120)
        #expect(dropped == 2)
        Self.expectSameIKESA(net, model)
        let requests = EngineRekeyTests.exchanges(net, from: SimulationSetup.gw1, .createChildSA, response: false)
        // Child rekey ×3 (two retransmissions), then the IKE rekey.
        #expect(requests.count == 4)
        #expect(Self.rekeyedEvents(net.initiatorEvents).count == 1)
        #expect(Self.childDeletes(net.initiatorEvents) == 1)
    }

    @Test("§2.25 an IKE rekey meets a Child SA rekey in flight: TEMPORARY_FAILURE, retried later, both succeed",
          arguments: [true, false], [true, false])
    func ikeRekeyMeetsChildRekey(ikeFromInitiator: Bool, childFirst: Bool) throws {
        let (net, model) = try Self.tunnel()
        let (ikeRekeyer, childRekeyer) = ikeFromInitiator ? (net.initiator, net.responder) : (net.responder, net.initiator)
        net.hold = true
        if childFirst {
            childRekeyer.rekeyChildSA(now: net.now)
            ikeRekeyer.rekeyIKESA(now: net.now)
        } else {
            ikeRekeyer.rekeyIKESA(now: net.now)
            childRekeyer.rekeyChildSA(now: net.now)
        }
        let requests = net.takeHeld()
        #expect(requests.count == 2)
        for d in requests { net.deliver(d) }
        let answers = net.takeHeld()
        let refusals = answers.filter { d in
            let receiver = d.destination.address == SimulationSetup.gw1.address ? net.initiator : net.responder
            guard let sk = try? IKEMessage(decoding: d.bytes).encryptedPayload,
                  let inner = try? receiver.protection?.open(raw: d.bytes, sk: sk) else { return false }
            return inner.contains { $0.notify?.type == .temporaryFailure }
        }
        // Each side refuses the other's request: neither runs two exchanges on one SA at once.
        #expect(refusals.count == 2)
        for d in answers { net.deliver(d) }
        EngineRekeyCollisionTests.release(net)
        net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 120)
        Self.expectSameIKESA(net, model)
        for events in [net.initiatorEvents, net.responderEvents] {
            #expect(Self.rekeyedEvents(events).count == 1)
            #expect(Self.childDeletes(events) == 1)
        }
    }

    @Test("A Delete of a Child SA that arrives on the replaced IKE SA still removes it (the Child SAs moved, §2.18) and is answered with our SPI")
    func childDeleteOnReplacedSA() throws {
        let (net, _) = try Self.tunnel()
        let (a, b) = (net.initiator, net.responder)
        let childA = try #require(a.childSA), childB = try #require(b.childSA)
        net.hold = true
        a.rekeyIKESA(now: net.now)
        for d in net.takeHeld() { net.deliver(d) }  // the request: B answers and switches
        for d in net.takeHeld() { net.deliver(d) }  // the answer: A switches, its Delete(old) is held
        _ = net.takeHeld()
        let old = try #require(net.retired(b).first { $0.purpose == .replaced })
        // HDR(old), SK {D(ESP, B's inbound SPI)} from B, as a peer that queued it there might.
        var flags: IKEHeader.Flags = []
        if old.keying.originalInitiator { flags.insert(.initiator) }
        let header = IKEHeader(initiatorSPI: old.keying.initiatorSPI, responderSPI: old.keying.responderSPI,
                               exchangeType: .informational, flags: flags, messageID: old.window.nextRequestID)
        var random = SeededRandomSource(seed: 99)
        let bytes = try old.keying.protection.seal(header: header, payloads: [.delete(.childSAs([childB.inboundSPI]))], random: &random)
        net.deliver(IKEDatagram(bytes: bytes, source: SimulationSetup.gw2, destination: SimulationSetup.gw1))
        #expect(a.childSAs.isEmpty)
        #expect(net.initiatorEvents.contains { if case .childSADeleted(let i, _) = $0 { i == childA.inboundSPI } else { false } })
        let answer = try #require(net.takeHeld().first { $0.source.address == SimulationSetup.gw1.address })
        let sk = try #require(try IKEMessage(decoding: answer.bytes).encryptedPayload)
        let inner = try old.keying.protection.open(raw: answer.bytes, sk: sk)
        #expect(inner.contains { if case .delete(let d) = $0 { d.espSPIs == [childA.inboundSPI] } else { false } })
    }

    @Test("A peer rekeying the IKE SA as fast as it can leaves at most maxPerIKESA old SAs behind (bounded memory)")
    func rapidRekeysAreBounded() throws {
        let (net, model) = try Self.tunnel()
        for _ in 0..<40 {
            net.responder.rekeyIKESA(now: net.now)
            net.run(limit: net.now.seconds(since: IKEInstant(nanoseconds: 0)) + 0.5)
            #expect(net.sides(net.initiator).count <= IKESideSA.maxPerIKESA && net.sides(net.responder).count <= IKESideSA.maxPerIKESA)
        }
        #expect(Self.rekeyedEvents(net.initiatorEvents).count == 40)
        #expect(net.sides(net.initiator).count == IKESideSA.maxPerIKESA)
        Self.expectSameIKESA(net, model)
    }

    // MARK: Loss and endurance

    @Test("IKE SA rekeys under 30% loss, duplication and reordering: both sides end on one SA, Child SAs never without an outbound SA",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func lossyRekeys(_ seed: UInt64) throws {
        let (net, model) = try Self.tunnel(seed: seed, configure: { s in
            s.retransmission = IKERetransmissionPolicy(timeout: 1, base: 1.5, tries: 10, jitter: 0.2)
            s.halfOpenTimeout = 600
            s.ikeLifetime = 200
            s.ikeRekeyMargin = 40
            s.ikeRekeyJitter = 30
            s.childLifetime = 150
            s.childRekeyMargin = 30
            s.childRekeyJitter = 20
        }, impairmentSeed: seed * 7919, impairment: .init(loss: 0.3, duplication: 0.2, maxDelay: 0.3))
        net.run(limit: 2_000)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(Self.rekeyedEvents(net.initiatorEvents).count >= 8)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))")
        // Every IKE SA the initiator moved to, the responder moved to as well.
        let a = Self.rekeyedEvents(net.initiatorEvents).map { "\($0.0)/\($0.1)" }
        let b = Self.rekeyedEvents(net.responderEvents).map { "\($0.0)/\($0.1)" }
        let n = min(a.count, b.count)
        #expect(Array(a.prefix(n)) == Array(b.prefix(n)) && abs(a.count - b.count) <= 1)
        #expect(net.sides(net.initiator).count <= 3 && net.sides(net.responder).count <= 3)
    }

    @Test("1,000 consecutive IKE SA rekeys with Child SA rekeys in between: one SA at the end, no outbound gap, bounded state")
    func manyRekeys() throws {
        let (net, model) = try Self.tunnel(ike: Proposals.gcm128x25519, configure: { s in
            s.ikeLifetime = 100
            s.ikeRekeyMargin = 20
            s.ikeRekeyJitter = 20
            s.childLifetime = 70
            s.childRekeyMargin = 10
            s.childRekeyJitter = 10
        })
        var maxSides = 0
        var rekeys = 0
        net.onEvent = { [model] fromInitiator, e in
            model.apply(fromInitiator, e)
            if fromInitiator, case .ikeSARekeyed = e { rekeys += 1 }
            maxSides = max(maxSides, net.sides(net.initiator).count, net.sides(net.responder).count)
        }
        var limit = 60.0
        while rekeys < 1_000 && net.initiator.state == .established {
            limit += 10_000
            net.run(limit: limit, maxSteps: 10_000_000)
        }
        #expect(rekeys >= 1_000)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))")
        #expect(model.readyCount.initiator >= 1_000)
        // Deleted SAs linger ~175 s for retransmitted Deletes; with a rekey every 60-80 s at most
        // three of them (plus one being deleted) exist at once: bounded, not growing.
        #expect(maxSides <= 4)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.initiatorSPI == net.responder.initiatorSPI && net.initiator.responderSPI == net.responder.responderSPI)
        print("1,000 IKE SA rekeys: \(model.readyCount.initiator) Child SA rekeys between them, \(net.wire.count) datagrams, \(Int(net.now.seconds(since: IKEInstant(nanoseconds: 0))))s simulated")
    }
}
