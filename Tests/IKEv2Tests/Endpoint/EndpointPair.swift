import ViaductCrypto
import CryptoCore
@testable import IKEv2
import NetTypes

/// Two endpoints (`IKESAManager`) with real engines over the engine simulation's in-memory link
/// and fake clock (`SimulationLink`), seeded randomness: gateway A (192.0.2.1, the topology's
/// initiator) and B (192.0.2.2, its responder). The engines are configured as the engine
/// simulation's (`SimulationSetup`: its PKI, identities, proposals); the data-plane actions each
/// endpoint returns feed the engine tests' `RekeyDataplaneModel` (A = its initiator side), which
/// checks after every one, once armed, that each side sends on an SA the other has installed inbound.
final class EndpointPair {
    static let a = IKEEndpoint(address: [192, 0, 2, 1], port: 500)
    static let b = IKEEndpoint(address: [192, 0, 2, 2], port: 500)

    /// Real engine sessions from `SimulationSetup`, with `reauthenticate` and a 600 s IKE lifetime
    /// (rekey time 540 s, no jitter) on a side under test, 4 h on the other.
    final class EngineFactory: IKESessionFactory {
        let setup: SimulationSetup
        let authenticator: any PeerAuthenticator
        let isA: Bool
        let reauthenticate: Bool
        var seed: UInt64
        /// What each session was made with, in order.
        var made: [(initiator: Bool, initialContact: Bool)] = []

        init(setup: SimulationSetup, authenticator: any PeerAuthenticator, isA: Bool, reauthenticate: Bool, seed: UInt64) {
            self.setup = setup
            self.authenticator = authenticator
            self.isA = isA
            self.reauthenticate = reauthenticate
            self.seed = seed
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            try makeSession(for: peer, initiator: initiator, initialContact: true)
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool, initialContact: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            var c = setup.configuration(isA ? .initiator : .responder)
            c.local = isA ? EndpointPair.a : EndpointPair.b
            c.peer = isA ? EndpointPair.b : EndpointPair.a
            c.role = initiator ? .initiator : .responder
            c.sendInitialContact = initialContact
            c.reauthenticate = reauthenticate
            c.ikeLifetimeSeconds = reauthenticate ? 600 : 14_400
            c.ikeRekeyMarginSeconds = 60
            c.ikeRekeyJitterSeconds = 0
            seed &+= 1
            made.append((initiator, initialContact))
            return IKESession(configuration: c, cryptoProvider: OpenSSLCryptoProvider(),
                              random: SeededRandomSource(seed: seed), authenticator: authenticator)
        }
    }

    let coreA: EndpointProbe, coreB: EndpointProbe
    let factoryA: EngineFactory, factoryB: EngineFactory
    /// Both data planes, fed from the endpoints' actions (A is its `initiator` side).
    let dataplanes = RekeyDataplaneModel()
    var dpA: RekeyDataplaneModel.Side { dataplanes.initiator }
    var dpB: RekeyDataplaneModel.Side { dataplanes.responder }
    let link = SimulationLink(now: IKEInstant(nanoseconds: 1_000_000_000))
    var now: IKEInstant { link.now }
    var events: [(side: String, event: IKEEvent)] = []
    /// Broken invariants, with the operation that broke them.
    var violations: [String] { dataplanes.violations }
    /// Set once both sides carry traffic; the invariant holds from then on.
    var armed: Bool {
        get { dataplanes.armed }
        set { dataplanes.armed = newValue }
    }
    /// Drops datagrams in flight when true (e.g. to make an attempt fail).
    var drop: (IKEDatagram) -> Bool {
        get { link.blackhole }
        set { link.blackhole = newValue }
    }

    /// `reauthenticating` set on A (true) or B (false), on both with `both`.
    init(reauthenticating aSide: Bool, both: Bool = false) throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        factoryA = EngineFactory(setup: setup, authenticator: try setup.pki.authenticator(try setup.pki.gateway("gw1.example.net")),
                                 isA: true, reauthenticate: aSide || both, seed: 100)
        factoryB = EngineFactory(setup: setup, authenticator: try setup.pki.authenticator(try setup.pki.gateway("gw2.example.net")),
                                 isA: false, reauthenticate: !aSide || both, seed: 200)
        coreA = EndpointProbe(factory: factoryA, reinitiateDelaySeconds: 10)
        coreB = EndpointProbe(factory: factoryB, reinitiateDelaySeconds: 10)
        coreA.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [Self.b.address], local: Self.a, remote: Self.b, initiator: true))
        coreB.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-a"), addresses: [Self.a.address], local: Self.b, remote: Self.a, initiator: false))
        dataplanes.armsItself = false
        coreA.onAction = { [unowned self] action in
            dataplanes.apply(true, action)
            if case .report(let e, _) = action { events.append(("A", e)) }
        }
        coreB.onAction = { [unowned self] action in
            dataplanes.apply(false, action)
            if case .report(let e, _) = action { events.append(("B", e)) }
        }
    }

    /// Hands datagrams across the link (A's first, then B's, in the order sent) until both
    /// sides are quiet.
    func exchange() {
        for _ in 0..<64 {
            let fromA = coreA.takeOutgoing(), fromB = coreB.takeOutgoing()
            if fromA.isEmpty && fromB.isEmpty { return }
            (fromA + fromB).forEach(link.send)
            for d in link.takeDue() {
                (d.destination.address == Self.a.address ? coreA : coreB).receive(d, now: now)
            }
        }
    }

    func start() {
        coreA.start(now: now)
        coreB.start(now: now)
        exchange()
        armed = dpA.outboundSPI != nil && dpB.outboundSPI != nil
    }

    /// Moves the fake clock in one-second steps, firing both endpoints' timers.
    func run(until seconds: Double) {
        while now.seconds(since: IKEInstant(nanoseconds: 0)) < seconds {
            link.advance(seconds: 1)
            coreA.fireTimers(now: now)
            coreB.fireTimers(now: now)
            exchange()
        }
    }

    func count(_ side: String, _ match: (IKEEvent) -> Bool) -> Int {
        events.filter { $0.side == side && match($0.event) }.count
    }

    static func isReauthenticated(_ e: IKEEvent) -> Bool { if case .ikeSAReauthenticated = e { true } else { false } }
    static func isFailure(_ e: IKEEvent) -> Bool {
        switch e {
        case .ikeSAFailed, .ikeSADeleted: true
        default: false
        }
    }
}
