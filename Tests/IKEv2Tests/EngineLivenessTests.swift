import CryptoCore
import IKEv2
import Testing

/// RFC 7296 §2.4 (liveness checks, INITIAL_CONTACT) and §1.4.1 (Delete of Child and IKE SAs in
/// both directions).
struct EngineLivenessTests {
    static func seconds(_ t: IKEInstant) -> Double { t.seconds(since: IKEInstant(nanoseconds: 0)) }

    /// INFORMATIONAL requests `from` sent after the first `skip` datagrams of the wire.
    static func checks(_ net: SimulationNetwork, from: IKEEndpoint, after skip: Int) -> [IKEDatagram] {
        net.wire.dropFirst(skip).filter { d in
            guard d.source.address == from.address, let h = try? IKEHeader(decoding: d.bytes) else { return false }
            return h.exchangeType == .informational && !h.isResponse
        }
    }

    @Test("Dead peer: after `dpd` of silence an empty INFORMATIONAL, no answer after the retransmissions → deadPeer(action) within interval + retransmission time",
          arguments: [true, false], [IKEDPDAction.restart, .clear, .hold])
    func deadPeer(initiatorDetects: Bool, action: IKEDPDAction) throws {
        let policy = IKERetransmissionPolicy.strongSwanDefaults
        let (net, _) = try EngineRekeyTests.tunnel(configure: { s in
            s.dpdInterval = 30
            s.dpdAction = action
            s.retransmission = policy
        })
        let silencedAt = Self.seconds(net.now)
        let wireBefore = net.wire.count
        let survivor = initiatorDetects ? SimulationSetup.gw1 : SimulationSetup.gw2
        // The other gateway vanishes: nothing it sends arrives.
        let detector = initiatorDetects ? net.initiator : net.responder
        net.blackhole = { $0.source.address != survivor.address }
        var detectedAt: Double?
        var detectedAction: IKEDPDAction?
        net.onEvent = { fromInitiator, e in
            if fromInitiator == initiatorDetects, case .deadPeer(let a) = e, detectedAt == nil {
                detectedAt = Self.seconds(net.now)
                detectedAction = a
            }
        }
        net.run(limit: silencedAt + 1_000)
        let at = try #require(detectedAt, "no deadPeer event")
        #expect(detectedAction == action)
        let retransmitting = (0...policy.tries).map(policy.interval(afterAttempt:)).reduce(0, +)
        let bound = silencedAt + 30 + retransmitting
        print("dead peer detected \(at - silencedAt)s after the silence began (bound \(bound - silencedAt)s)")
        #expect(at <= bound + 0.001)
        #expect(at >= silencedAt + 30)
        if case .failed(let f) = detector.state { #expect(f.code == .deadPeer) } else { Issue.record("detector is \(detector.state)") }
        let events = initiatorDetects ? net.initiatorEvents : net.responderEvents
        #expect(events.contains { if case .childSADeleted = $0 { true } else { false } })
        // The liveness checks on the wire are empty INFORMATIONAL requests.
        let checks = Self.checks(net, from: survivor, after: wireBefore)
        #expect(checks.count == policy.tries + 1)
        #expect(Set(checks.map(\.bytes)).count == 1, "a retransmission is the same bytes (§2.1)")
    }

    @Test("A live peer answers liveness checks: the SA stays up and checks are sent only after silence")
    func livePeer() throws {
        let (net, _) = try EngineRekeyTests.tunnel(configure: { $0.dpdInterval = 20 })
        let start = Self.seconds(net.now)
        let wireBefore = net.wire.count
        net.run(limit: start + 200)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        let checks = Self.checks(net, from: SimulationSetup.gw1, after: wireBefore)
            + Self.checks(net, from: SimulationSetup.gw2, after: wireBefore)
        // An exchange refreshes both sides, whose timers then fire together: at most one check
        // per side per interval, and at least one per interval overall.
        #expect(checks.count >= 200 / 20 - 1 && checks.count <= 2 * (200 / 20 + 1), "\(checks.count) checks")
        #expect(!net.initiatorEvents.contains { if case .deadPeer = $0 { true } else { false } })
    }

    @Test("ESP seen from the peer (noteInboundTraffic) replaces liveness checks")
    func trafficSuppressesChecks() throws {
        let (net, _) = try EngineRekeyTests.tunnel(configure: { $0.dpdInterval = 20 })
        let wireBefore = net.wire.count
        for _ in 0..<20 {
            net.advance(seconds: 10)
            net.initiator.noteInboundTraffic(now: net.now)
            net.responder.noteInboundTraffic(now: net.now)
            for s in [net.initiator, net.responder] where (s.nextDeadline.map { $0 <= net.now } ?? false) { s.timeout(now: net.now) }
            net.drain()
        }
        #expect(Self.checks(net, from: SimulationSetup.gw1, after: wireBefore).isEmpty)
        #expect(Self.checks(net, from: SimulationSetup.gw2, after: wireBefore).isEmpty)
    }

    @Test("HDR, SK {D(ESP)} --> <-- HDR, SK {D(ESP)}: a Child SA deleted from either side, answered with the peer's SPI",
          arguments: [true, false])
    func deleteChild(fromInitiator: Bool) throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        let deleter = fromInitiator ? net.initiator : net.responder
        let sa = try #require(deleter.childSA)
        deleter.deleteChildSA(inboundSPI: sa.inboundSPI, now: net.now)
        net.run(limit: Self.seconds(net.now) + 30)
        #expect(net.initiator.childSAs.isEmpty && net.responder.childSAs.isEmpty)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        for events in [net.initiatorEvents, net.responderEvents] {
            #expect(events.filter { if case .childSADeleted = $0 { true } else { false } }.count == 1)
        }
        let end = fromInitiator ? SimulationSetup.gw1 : SimulationSetup.gw2
        let other = fromInitiator ? SimulationSetup.gw2 : SimulationSetup.gw1
        #expect(EngineRekeyTests.exchanges(net, from: end, .informational, response: false).count == 1)
        #expect(EngineRekeyTests.exchanges(net, from: other, .informational, response: false).isEmpty)
        #expect(EngineRekeyTests.exchanges(net, from: other, .informational, response: true).count == 1)
    }

    @Test("HDR, SK {D(IKE)} from either side: both end with ikeSADeleted and every Child SA removed",
          arguments: [true, false])
    func deleteIKE(fromInitiator: Bool) throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        (fromInitiator ? net.initiator : net.responder).close(now: net.now)
        net.run(limit: Self.seconds(net.now) + 30)
        #expect(net.initiator.state == .closed && net.responder.state == .closed)
        for events in [net.initiatorEvents, net.responderEvents] {
            #expect(events.contains { if case .ikeSADeleted = $0 { true } else { false } })
            #expect(events.contains { if case .childSADeleted = $0 { true } else { false } })
        }
    }

    @Test("close during a rekey waits for the outstanding exchange (window size 1), then deletes")
    func closeDuringRekey() throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        net.initiator.rekeyChildSA(now: net.now)
        net.initiator.close(now: net.now)
        net.run(limit: Self.seconds(net.now) + 30)
        #expect(net.initiator.state == .closed && net.responder.state == .closed)
        let requests = EngineRekeyTests.exchanges(net, from: SimulationSetup.gw1, .createChildSA, response: false)
        #expect(requests.count == 1)
    }

    @Test("A peer restarts: its new IKE_AUTH carries INITIAL_CONTACT, the responder reports it for the daemon to drop the stale SA",
          arguments: [true, false])
    func peerRestart(sendsInitialContact: Bool) throws {
        let pki = try SimulationPKI()
        let (first, _) = try EngineRekeyTests.tunnel(pki: pki)
        #expect(first.responderEvents.contains { if case .initialContact = $0 { true } else { false } })
        // gw1 reboots: a fresh initiator with new randomness, and gw2's daemon creates a new
        // responder session for its IKE_SA_INIT.
        var setup = SimulationSetup(pki: pki, ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.sendInitialContact = sendsInitialContact
        let second = try setup.network(seed: 99)
        second.run(limit: 60)
        #expect(second.responder.state == .established)
        let reported = second.responderEvents.compactMap { e -> String? in
            if case .initialContact(let id) = e { id } else { nil }
        }
        if sendsInitialContact {
            #expect(reported.count == 1 && reported[0].contains("gw1.example.net"))
            // Reported after ikeSAEstablished, so the daemon can tell the new SA from the stale one.
            let est = second.responderEvents.firstIndex(where: \.isEstablished)
            let ic = second.responderEvents.firstIndex { if case .initialContact = $0 { true } else { false } }
            #expect(est != nil && ic != nil && est! < ic!)
        } else {
            #expect(reported.isEmpty)
        }
        // The engine only reports: gw2's stale session lives until the daemon drops it.
        #expect(first.responder.state == .established)
    }
}
