import CryptoCore
@testable import IKEv2
import Testing

/// RFC 7296 §2.8.3: with `reauthenticate`, the IKE SA's rekey time emits `reauthenticationDue`
/// (once) for the daemon instead of starting a CREATE_CHILD_SA rekey; Child SA rekeys and
/// everything else go on as before. The daemon side is in DaemonTests/DaemonReauthenticationTests.
struct EngineReauthenticationTests {
    static func reauthDue(_ events: [IKEEvent]) -> Int {
        events.filter { if case .reauthenticationDue = $0 { true } else { false } }.count
    }

    /// CREATE_CHILD_SA requests proposing protocol IKE (IKE SA rekeys) seen on the wire.
    static func ikeRekeyRequests(_ net: SimulationNetwork) -> Int {
        net.wire.filter { d in
            guard let h = try? IKEHeader(decoding: d.bytes), h.exchangeType == .createChildSA, !h.isResponse else { return false }
            return true
        }.count
    }

    /// IKE lifetime 600 s, rekey margin 60 s, no jitter: the IKE SA's rekey time is t = 540 s
    /// after it was established at t ≈ 0.
    static func tunnel(reauthenticate: Set<IKERole>, childLifetime: Double = 3_600, childMargin: Double = 300,
                       seed: UInt64 = 7) throws -> (SimulationNetwork, RekeyDataplaneModel) {
        try EngineRekeyTests.tunnel(configure: {
            $0.ikeLifetime = 600
            $0.ikeRekeyMargin = 60
            $0.ikeRekeyJitter = 0
            $0.childLifetime = childLifetime
            $0.childRekeyMargin = childMargin
            $0.childRekeyJitter = 0
            $0.reauthenticate = reauthenticate
        }, seed: seed)
    }

    @Test("§2.8.3: at the IKE SA's rekey time each reauthenticating side emits reauthenticationDue once, and no CREATE_CHILD_SA is sent; the SA stays as it was")
    func eventInsteadOfRekey() throws {
        let (net, model) = try Self.tunnel(reauthenticate: [.initiator, .responder])
        let spis = (net.initiator.initiatorSPI, net.initiator.responderSPI)
        net.run(limit: 530)
        #expect(Self.reauthDue(net.initiatorEvents) == 0 && Self.reauthDue(net.responderEvents) == 0)
        net.run(limit: 545)
        #expect(Self.reauthDue(net.initiatorEvents) == 1 && Self.reauthDue(net.responderEvents) == 1)
        // Emitted once: the daemon owns what happens next; nothing repeats while it works.
        net.run(limit: 3_000)
        #expect(Self.reauthDue(net.initiatorEvents) == 1 && Self.reauthDue(net.responderEvents) == 1)
        #expect(Self.ikeRekeyRequests(net) == 0)
        #expect(EngineIKERekeyTests.rekeyedEvents(net.initiatorEvents + net.responderEvents).isEmpty)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.initiatorSPI == spis.0 && net.initiator.responderSPI == spis.1)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))")
    }

    @Test("Only the side configured to reauthenticate emits the event; the other keeps its own IKE SA rekey (§2.18)")
    func onlyTheConfiguredSide() throws {
        let (net, _) = try Self.tunnel(reauthenticate: [.initiator])
        net.run(limit: 545)
        #expect(Self.reauthDue(net.initiatorEvents) == 1)
        #expect(Self.reauthDue(net.responderEvents) == 0)
        // The responder's rekey timer fired at the same time and rekeyed the IKE SA the usual way.
        #expect(EngineIKERekeyTests.rekeyedEvents(net.responderEvents).count == 1)
    }

    @Test("Without reauthenticate the same timer rekeys the IKE SA with CREATE_CHILD_SA and no event is emitted")
    func defaultRekeys() throws {
        let (net, model) = try Self.tunnel(reauthenticate: [])
        let old = net.initiator.initiatorSPI
        net.run(limit: 545)
        #expect(Self.reauthDue(net.initiatorEvents + net.responderEvents) == 0)
        #expect(Self.ikeRekeyRequests(net) >= 1)
        #expect(EngineIKERekeyTests.rekeyedEvents(net.initiatorEvents).count == 1)
        #expect(net.initiator.initiatorSPI != old)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))")
    }

    @Test("Child SA rekeys (§2.8) still run on their own timers while reauthentication is configured and pending")
    func childRekeysUnchanged() throws {
        let (net, model) = try Self.tunnel(reauthenticate: [.initiator, .responder], childLifetime: 300, childMargin: 30)
        net.run(limit: 1_200)
        let rekeyed = (net.initiatorEvents + net.responderEvents).filter { $0.child?.replacesInboundSPI != nil }.count
        #expect(rekeyed >= 4)
        #expect(Self.reauthDue(net.initiatorEvents) == 1)
        EngineRekeyTests.expectConverged(net, model)
    }
}
