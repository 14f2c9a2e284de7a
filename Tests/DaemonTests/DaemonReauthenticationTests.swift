import Crypto
import CryptoCore
@testable import Daemon
import DataplaneContract
import IKEv2
import NetTypes
import Testing
@testable import Tools
import Topology

/// RFC 7296 §2.8.3 through two `EndpointDriver`s driving real engines, datagrams handed across in
/// memory, a fake clock and seeded randomness. Each core's data plane is a model that keeps
/// the installed inbound SAs and the current outbound one; after every data-plane call it
/// checks that, once the tunnel is up, each side sends on an SA the other side has installed
/// inbound: the make-before-break invariant, asserted at every step rather than eyeballed.
struct DaemonReauthenticationTests {
    static let a = IKEEndpoint(address: gwA, port: 500)
    static let b = IKEEndpoint(address: gwB, port: 500)

    /// The data plane of one gateway, as the tunnel's make-before-break sees it.
    final class ModelDataplane: DataplaneBackend {
        let name = "model"
        let side: String
        var inbound: Set<ESPSPI> = []
        var outbound: ESPSPI?
        /// Operations in order: "install 1234", "delete 1234", "activate 1234" (inbound SPIs).
        var log: [String] = []
        var onChange: () -> Void = {}

        init(side: String) { self.side = side }

        func install(_ sa: ChildSAParameters, peer: String) throws(DataplaneError) {
            inbound.insert(sa.inboundSPI)  // inbound first, then (maybe) outbound
            onChange()
            if sa.activateOutbound { outbound = sa.outboundSPI }
            log.append("install \(sa.inboundSPI.rawValue)\(sa.activateOutbound ? "" : " idle")")
            onChange()
        }

        func activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) {
            outbound = outboundSPI
            log.append("activate \(inboundSPI.rawValue)")
            onChange()
        }

        func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) {
            inbound.remove(inboundSPI)
            if outbound == outboundSPI { outbound = nil }
            log.append("delete \(inboundSPI.rawValue)")
            onChange()
        }

        func counters(inboundSPI: ESPSPI) -> ChildSACounters? { nil }
        func update(plan: NodePlan) throws(DataplaneError) {}
    }

    /// Real engine sessions with the benchmark's throwaway PKI; `reauthenticate` and a 600 s
    /// IKE lifetime (rekey time 540 s, no jitter) on the side under test, 4 h on the other.
    final class EngineFactory: IKESessionFactory {
        let bench: HandshakeBenchmark
        let isA: Bool
        let reauthenticate: Bool
        var seed: UInt64
        /// What each session was made with, in order.
        var made: [(initiator: Bool, initialContact: Bool)] = []

        init(bench: HandshakeBenchmark, isA: Bool, reauthenticate: Bool, seed: UInt64) {
            self.bench = bench
            self.isA = isA
            self.reauthenticate = reauthenticate
            self.seed = seed
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            try makeSession(for: peer, initiator: initiator, initialContact: true)
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool, initialContact: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            var c = isA ? bench.initiatorConfig : bench.responderConfig
            c.role = initiator ? .initiator : .responder
            c.sendInitialContact = initialContact
            c.reauthenticate = reauthenticate
            c.ikeLifetimeSeconds = reauthenticate ? 600 : 14_400
            c.ikeRekeyMarginSeconds = 60
            c.ikeRekeyJitterSeconds = 0
            c.retransmission = .strongSwanDefaults
            seed &+= 1
            made.append((initiator, initialContact))
            return IKESession(configuration: c, cryptoProvider: OpenSSLCryptoProvider(), random: SeededRandomSource(seed: seed),
                              authenticator: isA ? bench.initiatorAuth : bench.responderAuth)
        }
    }

    /// Gateway A (192.0.2.1, the configured initiator) and B (192.0.2.2, responder), with
    /// `reauthenticating` set on one of them (on both with `both`).
    final class Pair {
        let coreA: EndpointDriver, coreB: EndpointDriver
        let factoryA: EngineFactory, factoryB: EngineFactory
        let dpA = ModelDataplane(side: "A"), dpB = ModelDataplane(side: "B")
        let logA = LogCapture(), logB = LogCapture()
        var now = IKEInstant(nanoseconds: 1_000_000_000)
        var events: [(side: String, event: IKEEvent)] = []
        /// Broken invariants, with the operation that broke them.
        var violations: [String] = []
        /// Set once both sides carry traffic; the invariant holds from then on.
        var armed = false
        /// Drops datagrams in flight when true (e.g. to make an attempt fail).
        var drop: (IKEDatagram) -> Bool = { _ in false }

        init(reauthenticating aSide: Bool, both: Bool = false) throws {
            guard case .success(let ike) = ProposalSyntax.parse("aes256gcm16-prfsha384-ecp384", kind: .ike),
                  case .success(let esp) = ProposalSyntax.parse("aes256gcm16", kind: .esp) else {
                throw DaemonError(.configuration, "proposal did not parse")
            }
            let bench = try HandshakeBenchmark(keyType: .ecdsaP256, ikeProposal: ike, espProposal: esp, epochNow: 1_749_945_600)
            factoryA = EngineFactory(bench: bench, isA: true, reauthenticate: aSide || both, seed: 100)
            factoryB = EngineFactory(bench: bench, isA: false, reauthenticate: !aSide || both, seed: 200)
            coreA = EndpointDriver(factory: factoryA, dataplane: dpA, logger: logA.logger(), reinitiateDelaySeconds: 10)
            coreB = EndpointDriver(factory: factoryB, dataplane: dpB, logger: logB.logger(), reinitiateDelaySeconds: 10)
            coreA.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: Self.aEnd, remote: Self.bEnd, initiator: true))
            coreB.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-a"), addresses: [gwA], local: Self.bEnd, remote: Self.aEnd, initiator: false))
            coreA.onEvent = { [unowned self] _, e in events.append(("A", e)) }
            coreB.onEvent = { [unowned self] _, e in events.append(("B", e)) }
            dpA.onChange = { [unowned self] in check("A") }
            dpB.onChange = { [unowned self] in check("B") }
        }

        static let aEnd = DaemonReauthenticationTests.a
        static let bEnd = DaemonReauthenticationTests.b

        /// Each side sends on an SA the other has installed inbound (outbound SPI = the peer's
        /// inbound SPI), and both have one.
        func check(_ after: String) {
            guard armed else { return }
            for (me, other, name) in [(dpA, dpB, "A"), (dpB, dpA, "B")] {
                guard let out = me.outbound else {
                    violations.append("\(name) has no outbound SA after \(after): \(me.log.last ?? "")")
                    continue
                }
                if !other.inbound.contains(out) {
                    violations.append("\(name) sends on \(out), which the peer has not installed, after \(after): \(me.log.last ?? "")")
                }
            }
        }

        /// Hands datagrams across until both sides are quiet.
        func exchange() {
            for _ in 0..<64 {
                let fromA = coreA.takeOutgoing(), fromB = coreB.takeOutgoing()
                if fromA.isEmpty && fromB.isEmpty { return }
                for d in fromA where !drop(d) { coreB.receive(d, now: now) }
                for d in fromB where !drop(d) { coreA.receive(d, now: now) }
            }
        }

        func start() {
            coreA.start(now: now)
            coreB.start(now: now)
            exchange()
            armed = dpA.outbound != nil && dpB.outbound != nil
        }

        /// Moves the fake clock in one-second steps, firing both cores' timers.
        func run(until seconds: Double) {
            while now.seconds(since: IKEInstant(nanoseconds: 0)) < seconds {
                now = now.adding(seconds: 1)
                coreA.fireTimers(now: now)
                coreB.fireTimers(now: now)
                exchange()
            }
        }

        func count(_ side: String, _ match: (IKEEvent) -> Bool) -> Int {
            events.filter { $0.side == side && match($0.event) }.count
        }
    }

    static func isReauthenticated(_ e: IKEEvent) -> Bool { if case .ikeSAReauthenticated = e { true } else { false } }
    static func isFailure(_ e: IKEEvent) -> Bool {
        switch e {
        case .ikeSAFailed, .ikeSADeleted: true
        default: false
        }
    }

    @Test("§2.8.3 make-before-break, either side reauthenticating: a new IKE SA (new SPIs, no INITIAL_CONTACT), its Child SA installed before the old IKE SA is deleted, the old Child SA removed after, and never a moment without an outbound SA the peer can decrypt",
          arguments: [true, false])
    func reauthentication(byA: Bool) throws {
        let pair = try Pair(reauthenticating: byA)
        pair.start()
        #expect(pair.armed)
        let me = byA ? "A" : "B"
        let (myDP, peerDP) = byA ? (pair.dpA, pair.dpB) : (pair.dpB, pair.dpA)
        let firstOutbound = try #require(myDP.outbound)
        let firstInbound = try #require(myDP.inbound.first)
        pair.run(until: 530)
        #expect(pair.count(me, Self.isReauthenticated) == 0)
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
        #expect(pair.count("A", Self.isFailure) == 0 && pair.count("B", Self.isFailure) == 0)

        // Make-before-break, as each data plane saw it: the new Child SA was installed before
        // the old one left, the old one is gone, one SA each, and the pair converged.
        for dp in [myDP, peerDP] {
            let install = try #require(dp.log.indices.first { $0 > 0 && dp.log[$0].hasPrefix("install") })
            let delete = try #require(dp.log.firstIndex { $0.hasPrefix("delete") })
            #expect(install < delete, "\(dp.side): \(dp.log)")
            #expect(dp.inbound.count == 1)
        }
        #expect(!myDP.inbound.contains(firstInbound) && myDP.outbound != firstOutbound)
        #expect(myDP.outbound.map { peerDP.inbound.contains($0) } == true)
        // The reauthenticating side's old IKE SA was deleted only after the new Child SA was up.
        let oldGone = try #require(pair.events.firstIndex { $0.side == me && Self.isReauthenticated($0.event) })
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
        #expect(pair.count(me, Self.isReauthenticated) == 2)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
        #expect(myDP.inbound.count == 1 && peerDP.inbound.count == 1)
    }

    @Test("A reauthentication that fails keeps the old IKE SA and its Child SA (no failure reported, no tunnel-down) and is retried later")
    func failedAttemptKeepsTheOldSA() throws {
        let pair = try Pair(reauthenticating: true)
        pair.start()
        let firstOutbound = try #require(pair.dpA.outbound)
        // The peer does not answer new IKE_SA_INITs (responder SPI 0) for a while.
        var blocked = true
        pair.drop = { d in blocked && d.source.address == gwA && (try? IKEHeader(decoding: d.bytes))?.isNewSARequest == true }
        pair.run(until: 800)
        // The attempt timed out after its retransmissions (about 165 s) and a retry is under
        // way; the first SA still carries the tunnel.
        #expect(pair.factoryA.made.count == 3)
        #expect(pair.count("A", Self.isReauthenticated) == 0)
        #expect(pair.count("A", Self.isFailure) == 0 && pair.count("B", Self.isFailure) == 0)
        #expect(pair.dpA.outbound == firstOutbound)
        blocked = false
        pair.run(until: 900)
        #expect(pair.count("A", Self.isReauthenticated) == 1)
        #expect(pair.dpA.outbound != firstOutbound && pair.dpA.inbound.count == 1)
        #expect(pair.coreA.liveSessionCount == 1 && pair.coreB.liveSessionCount == 1)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(5))")
    }

    @Test("A peer's second IKE SA without INITIAL_CONTACT: its Child SA is installed with the outbound half idle, takes the traffic after deferredOutboundSeconds if the peer keeps the old SA, and the old SA's deletion is reported as ike-reauthenticated")
    func peersSecondSAWaitsThenTakesOver() throws {
        let factory = FakeFactory()
        let dp = ModelDataplane(side: "A")
        let core = EndpointDriver(factory: factory, dataplane: dp, logger: LogCapture().logger(), reinitiateDelaySeconds: 10)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: Self.a, remote: Self.b, initiator: false))
        var reported: [IKEEvent] = []
        core.onEvent = { _, e in reported.append(e) }
        let t0 = IKEInstant(nanoseconds: 1_000_000_000)
        func child(_ inbound: UInt32) -> ChildSAParameters { DaemonIKERekeyTests.childSA(inbound) }
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
        #expect(dp.log == ["install \(0x5000)"] && dp.outbound == 0x5001)
        open(spiI: 0xBBBB, child: 0x6000)
        #expect(dp.log.last == "install \(0x6000) idle" && dp.outbound == 0x5001)
        #expect(core.nextDeadline == t0.adding(seconds: core.deferredOutboundSeconds))
        core.fireTimers(now: t0.adding(seconds: core.deferredOutboundSeconds))
        #expect(dp.log.last == "activate \(0x6000)" && dp.outbound == 0x6001)
        // The peer deletes the old IKE SA: reported as a reauthentication, not a tunnel-down.
        let old = try #require(factory.made.first)
        old.onReceive = nil
        old.events = [.childSADeleted(inboundSPI: 0x5000, outboundSPI: 0x5001), .ikeSADeleted]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: 0xAAAA, spiR: old.spi, exchange: 37, initiator: true, response: false, messageID: 2),
                                 source: Self.b, destination: Self.a), now: t0.adding(seconds: 20))
        #expect(dp.inbound == [0x6000] && dp.outbound == 0x6001, "\(dp.log) \(reported)")
        #expect(!reported.contains { Self.isFailure($0) })
        let last = try #require(reported.last)
        guard case .ikeSAReauthenticated(let i, let r, let oi, let or) = last else {
            Issue.record("expected ikeSAReauthenticated, got \(last)")
            return
        }
        #expect((i, r, oi, or) == (0xBBBB, IKESPI(factory.made[1].spi), 0xAAAA, IKESPI(old.spi)))
    }

    @Test("Status and events: ike-reauthenticating when the time comes, ike-reauthenticated with the new SPIs; the metric counts reauthentications")
    func statusAndMetrics() throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let book = ControlStatusTests.book(plan)
        let local = IKEEndpoint(address: [192, 0, 2, 1], port: 4500), remote = IKEEndpoint(address: [198, 51, 100, 1], port: 4500)
        book.record(peer: "b", event: .ikeSAEstablished(initiatorSPI: 0x1122, responderSPI: 0x3344, proposal: "p",
                                                        peerIdentity: "b.example", local: local, peer: remote),
                    now: .seconds(1), epochSeconds: 1_000)
        let due = book.record(peer: "b", event: .reauthenticationDue, now: .seconds(500), epochSeconds: 1_500)
        #expect(due.kind == .ikeReauthenticating && due.spis == "0000000000001122_i 0000000000003344_r")
        book.record(peer: "b", event: .ikeSAEstablished(initiatorSPI: 0x5566, responderSPI: 0x7788, proposal: "p",
                                                        peerIdentity: "b.example", local: local, peer: remote),
                    now: .seconds(501), epochSeconds: 1_501)
        let done = book.record(peer: "b", event: .ikeSAReauthenticated(initiatorSPI: 0x5566, responderSPI: 0x7788,
                                                                      oldInitiatorSPI: 0x1122, oldResponderSPI: 0x3344),
                               now: .seconds(501), epochSeconds: 1_501)
        #expect(done.kind == .ikeReauthenticated && done.spis == "0000000000005566_i 0000000000007788_r")
        #expect(done.detail.contains("0000000000001122_i 0000000000003344_r"))
        let b = try #require(book.snapshot(now: .seconds(510), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        #expect(b.ike?.spis == "0000000000005566_i 0000000000007788_r")

        let (_, m, _, _) = try MetricsTests.setUp()
        let name = "viaduct_ike_sa_reauthentications_total{peer=\"b\"}"
        #expect(MetricsTests.value(MetricsTests.render(m, at: 1), name) == 0)
        m.record(peer: "b", event: .ikeSAReauthenticated(initiatorSPI: 5, responderSPI: 6, oldInitiatorSPI: 1, oldResponderSPI: 2),
                 now: .seconds(2))
        #expect(MetricsTests.value(MetricsTests.render(m, at: 3), name) == 1)
        #expect(MetricsTests.value(MetricsTests.render(m, at: 3), "viaduct_ike_sa_rekeys_total{peer=\"b\"}") == 0)
    }

    /// An initiator core with one established scripted session (IKE SPIs 0x1000/0xBEEF, Child SA
    /// 0x5000) whose reauthentication has started: the second session is `factory.made[1]`.
    static func reauthenticating() throws -> (EndpointDriver, FakeFactory, ModelDataplane, [IKEEvent]) {
        let factory = FakeFactory()
        let dp = ModelDataplane(side: "A")
        let core = EndpointDriver(factory: factory, dataplane: dp, logger: LogCapture().logger(), reinitiateDelaySeconds: 10)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: a, remote: b, initiator: true))
        let t0 = IKEInstant(nanoseconds: 1_000_000_000)
        core.start(now: t0)
        let old = try #require(factory.made.first)
        old.events = [.ikeSAEstablished(initiatorSPI: IKESPI(old.spi), responderSPI: 0xBEEF, proposal: "p", peerIdentity: "gw-b",
                                        local: a, peer: b), .childSAReady(DaemonIKERekeyTests.childSA(0x5000))]
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
                                        local: Self.a, peer: Self.b), .childSAReady(DaemonIKERekeyTests.childSA(0x6000))]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: new.spi, spiR: 0xD00D, initiator: false, response: true), source: Self.b,
                                 destination: Self.a), now: t)
        #expect(dp.log == ["install \(0x5000)", "install \(0x6000)"] && dp.outbound == 0x6001)
        #expect(old.closes == [t])
    }

    @Test("The old IKE SA going first (the peer deleted it) ends the reauthentication: the new SA goes on alone and nothing is closed twice")
    func oldSAGoneFirst() throws {
        let (core, factory, dp, _) = try Self.reauthenticating()
        var reported: [IKEEvent] = []
        core.onEvent = { _, e in reported.append(e) }
        let t = IKEInstant(nanoseconds: 600_000_000_000)
        let (old, new) = (factory.made[0], factory.made[1])
        old.events = [.childSADeleted(inboundSPI: 0x5000, outboundSPI: 0x5001), .ikeSADeleted]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: old.spi, spiR: 0xBEEF, exchange: 37, initiator: false, response: false,
                                                   messageID: 2), source: Self.b, destination: Self.a), now: t)
        // Nothing carries the tunnel meanwhile: that is a real deletion, reported as one.
        #expect(reported.contains { if case .ikeSADeleted = $0 { true } else { false } })
        new.events = [.ikeSAEstablished(initiatorSPI: IKESPI(new.spi), responderSPI: 0xD00D, proposal: "p", peerIdentity: "gw-b",
                                        local: Self.a, peer: Self.b), .childSAReady(DaemonIKERekeyTests.childSA(0x6000))]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: new.spi, spiR: 0xD00D, initiator: false, response: true), source: Self.b,
                                 destination: Self.a), now: t)
        #expect(old.closes.isEmpty)
        #expect(dp.inbound == [0x6000] && dp.outbound == 0x6001)
        #expect(core.liveSessionCount == 1)
        // No retry or re-initiation is pending for a tunnel that is up.
        core.fireTimers(now: t.adding(seconds: 100))
        #expect(factory.made.count == 2)
    }
}
