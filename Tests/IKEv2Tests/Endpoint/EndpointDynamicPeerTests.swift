import ViaductCrypto
import CryptoCore
@testable import IKEv2
import NetTypes
import Testing

/// Peers with `address: dynamic` (IKEDynamicPeers.swift, IKESAManager+DynamicPeers.swift): a hub
/// whose spokes come from addresses it has never heard of. Real engines over the in-memory link
/// with a fake clock and seeded randomness; every spoke is an endpoint of its own.
///
///     spoke (any address)                           hub (203.0.113.1)
///     HDR, SAi1, KEi, Ni                  -->       one responder for all dynamic peers
///                                         <--       HDR, SAr1, KEr, Nr
///     HDR, SK {IDi, CERT, AUTH, SAi2, TSi, TSr} --> IDi picks the tunnel; AUTH checked for it
///                                         <--       HDR, SK {IDr, CERT, AUTH, SAr2, TSi, TSr}
final class DynamicHub {
    static let hubAddress = IKEEndpoint(address: [203, 0, 113, 1], port: 500)

    /// The hub's sessions: one responder for every dynamic peer, each peer's identity being
    /// `<tunnel>.example.net`.
    final class HubFactory: IKESessionFactory {
        let setup: SimulationSetup
        let authenticator: any PeerAuthenticator
        var seed: UInt64 = 1000
        /// The candidate lists it was asked for (their sizes).
        var dynamicCalls: [Int] = []

        init(setup: SimulationSetup, authenticator: any PeerAuthenticator) {
            self.setup = setup
            self.authenticator = authenticator
        }

        func configuration(identity: String) -> IKEPeerConfiguration {
            var c = setup.configuration(.responder)
            c.local = DynamicHub.hubAddress
            c.peer = IKEEndpoint(address: [0, 0, 0, 0], port: 500)
            c.localIdentity = .fqdn("hub.example.net")
            c.peerIdentity = .fqdn(identity)
            return c
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            throw IKESessionFactoryError("the hub has no fixed peers")
        }

        func makeDynamicResponder(for peers: [IKETunnelPeer]) throws(IKESessionFactoryError) -> any IKESessionDriving {
            dynamicCalls.append(peers.count)
            let list = IKEDynamicPeerList(peers.map {
                IKEDynamicPeer(tunnel: $0.tunnel, configuration: configuration(identity: "\($0.name).example.net"))
            })
            guard let initial = list.initialConfiguration else { throw IKESessionFactoryError("no dynamic peers") }
            seed &+= 1
            return IKESession(configuration: initial, cryptoProvider: OpenSSLCryptoProvider(),
                              random: SeededRandomSource(seed: seed), authenticator: authenticator, dynamicPeers: list)
        }
    }

    /// A spoke's sessions: it initiates to the hub from `address`, as `identity`.
    final class SpokeFactory: IKESessionFactory {
        let setup: SimulationSetup
        let authenticator: any PeerAuthenticator
        let address: IKEEndpoint
        let identity: String
        var seed: UInt64

        init(setup: SimulationSetup, authenticator: any PeerAuthenticator, address: IKEEndpoint, identity: String, seed: UInt64) {
            self.setup = setup
            self.authenticator = authenticator
            self.address = address
            self.identity = identity
            self.seed = seed
        }

        func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
            var c = setup.configuration(.initiator)
            c.local = address
            c.peer = DynamicHub.hubAddress
            c.localIdentity = .fqdn(identity)
            c.peerIdentity = .fqdn("hub.example.net")
            seed &+= 1
            return IKESession(configuration: c, cryptoProvider: OpenSSLCryptoProvider(),
                              random: SeededRandomSource(seed: seed), authenticator: authenticator)
        }
    }

    let setup: SimulationSetup
    let hubFactory: HubFactory
    let hub: EndpointProbe
    /// Spokes by address (the link delivers to whoever is at the destination).
    var spokes: [[UInt8]: EndpointProbe] = [:]
    /// Spokes bound to the wildcard address, by their real address.
    var wildcards: [[UInt8]: Bool] = [:]
    let link = SimulationLink(now: IKEInstant(nanoseconds: 1_000_000_000))
    var now: IKEInstant { link.now }

    /// A hub with dynamic peers `names` (tunnels named so; identities `<name>.example.net`).
    init(peers names: [String], admission: IKEAdmissionGate? = nil) throws {
        setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        hubFactory = HubFactory(setup: setup, authenticator: try setup.pki.authenticator(try setup.pki.gateway("hub.example.net")))
        hub = EndpointProbe(factory: hubFactory, reinitiateDelaySeconds: 10, admission: admission)
        for n in names {
            hub.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: n), addresses: [], local: Self.hubAddress,
                                        remote: IKEEndpoint(address: [0, 0, 0, 0], port: 500), initiator: false, dynamic: true))
        }
        hub.start(now: now)
    }

    /// A spoke that authenticates as `identity` (with a certificate for it from the same CA)
    /// from `address`, and starts its IKE SA to the hub.
    @discardableResult
    func spoke(_ identity: String, at address: [UInt8], seed: UInt64, wildcard: Bool = false) throws -> EndpointProbe {
        // `wildcard`: the spoke's own address is dynamic too, its socket bound to 0.0.0.0; the
        // link (the kernel) fills in the real source.
        let local = IKEEndpoint(address: wildcard ? [0, 0, 0, 0] : address, port: 500)
        if wildcard { wildcards[address] = true }
        let f = SpokeFactory(setup: setup, authenticator: try setup.pki.authenticator(try setup.pki.gateway(identity)),
                             address: local, identity: identity, seed: seed)
        let core = EndpointProbe(factory: f, reinitiateDelaySeconds: 10)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "hub"), addresses: [Self.hubAddress.address], local: local,
                                     remote: Self.hubAddress, initiator: true))
        spokes[address] = core
        core.start(now: now)
        return core
    }

    func exchange() {
        for _ in 0..<64 {
            var out = hub.takeOutgoing()
            for a in spokes.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                for var d in spokes[a]?.takeOutgoing() ?? [] {
                    if wildcards[a] == true && d.source.address.allSatisfy({ $0 == 0 }) {
                        d = IKEDatagram(bytes: d.bytes, source: IKEEndpoint(address: a, port: d.source.port), destination: d.destination)
                    }
                    out.append(d)
                }
            }
            if out.isEmpty { return }
            out.forEach(link.send)
            for d in link.takeDue() {
                if d.destination.address == Self.hubAddress.address {
                    hub.receive(d, now: now)
                } else {
                    spokes[d.destination.address]?.receive(d, now: now)
                }
            }
        }
    }

    func run(seconds: Int) {
        for _ in 0..<seconds {
            link.advance(seconds: 1)
            hub.fireTimers(now: now)
            for s in spokes.values { s.fireTimers(now: now) }
            exchange()
        }
    }

    /// The hub's installed Child SAs by tunnel: (inbound SPI, the peer's outer address).
    var hubChildren: [TunnelID: [(ESPSPI, IKEEndpoint)]] {
        var out: [TunnelID: [(ESPSPI, IKEEndpoint)]] = [:]
        let deleted = Set(hub.deleted)
        for a in hub.actions {
            if case .installChildSA(let sa, let t) = a, !deleted.contains(sa.inboundSPI) { out[t, default: []].append((sa.inboundSPI, sa.peer)) }
        }
        return out
    }

    static func established(_ core: EndpointProbe) -> Int {
        core.events.filter { if case .ikeSAEstablished = $0 { true } else { false } }.count
    }
}

struct EndpointDynamicPeerTests {
    static let spoke1Address: [UInt8] = [198, 51, 100, 11]
    static let spoke2Address: [UInt8] = [198, 51, 100, 12]

    @Test("Two spokes from addresses the hub never heard of each land on their own tunnel, answered where they are")
    func twoSpokesFromUnknownAddresses() throws {
        let h = try DynamicHub(peers: ["spoke-1", "spoke-2"])
        let s1 = try h.spoke("spoke-1.example.net", at: Self.spoke1Address, seed: 1)
        let s2 = try h.spoke("spoke-2.example.net", at: Self.spoke2Address, seed: 2)
        h.exchange()
        #expect(DynamicHub.established(s1) == 1 && DynamicHub.established(s2) == 1)
        let byTunnel = Dictionary(grouping: h.hub.reports.filter { if case .ikeSAEstablished = $0.0 { true } else { false } }, by: \.1)
        #expect(Set(byTunnel.keys) == [TunnelID(peer: "spoke-1"), TunnelID(peer: "spoke-2")])
        #expect(byTunnel.values.allSatisfy { $0.count == 1 })
        // The Child SAs' outer addresses are where each spoke is.
        let children = h.hubChildren
        #expect(children[TunnelID(peer: "spoke-1")]?.map(\.1.address) == [Self.spoke1Address])
        #expect(children[TunnelID(peer: "spoke-2")]?.map(\.1.address) == [Self.spoke2Address])
        #expect(h.hub.endpoint.ikeSAs.map(\.tunnel.peer).sorted() == ["spoke-1", "spoke-2"])
        #expect(h.hub.endpoint.currentRemote(of: TunnelID(peer: "spoke-2"))?.address == Self.spoke2Address)
        #expect(h.hub.logged("dynamic peer identified"))
        #expect(h.hub.counters.unknownPeer == 0)
    }

    @Test("An identity no dynamic peer has is refused with AUTHENTICATION_FAILED and a clear log line; no tunnel hears of it")
    func wrongIdentityIsRefused() throws {
        let h = try DynamicHub(peers: ["spoke-1", "spoke-2"])
        // A valid certificate from the same CA, for an identity the hub has no tunnel for.
        let intruder = try h.spoke("stranger.example.net", at: [192, 0, 2, 66], seed: 3)
        h.exchange()
        #expect(DynamicHub.established(intruder) == 0)
        let failure = intruder.events.compactMap { if case .ikeSAFailed(let f) = $0 { f } else { nil } }.first
        #expect(failure?.notify == IKENotifyType.authenticationFailed.rawValue && failure?.reportedByPeer == true)
        #expect(h.hub.reports.isEmpty, "a tunnel heard of it: \(h.hub.reports.map(\.1))")
        #expect(h.hub.installed.isEmpty)
        let refusal = h.hub.logs.first { $0.message.contains("its identity is no dynamic peer's") }
        #expect(refusal?.metadata["detail"]?.contains("stranger.example.net") == true)
        #expect(refusal?.level == .warning)
        #expect(h.hub.liveSessionCount == 0)
        // The real spoke still comes in afterwards.
        let s1 = try h.spoke("spoke-1.example.net", at: Self.spoke1Address, seed: 4)
        h.exchange()
        #expect(DynamicHub.established(s1) == 1)
        #expect(h.hub.endpoint.ikeSAs.filter { !$0.finished }.map(\.tunnel.peer) == ["spoke-1"])
    }

    @Test("A spoke that comes back from a new address replaces its old IKE SA; its Child SA follows it, the other spoke is untouched")
    func spokeMoves() throws {
        let h = try DynamicHub(peers: ["spoke-1", "spoke-2"])
        try h.spoke("spoke-1.example.net", at: Self.spoke1Address, seed: 1)
        try h.spoke("spoke-2.example.net", at: Self.spoke2Address, seed: 2)
        h.exchange()
        h.run(seconds: 5)
        let before = h.hubChildren
        #expect(before.count == 2)
        // spoke-1's DHCP lease changes: it starts again from 192.0.2.77 (INITIAL_CONTACT).
        h.spokes[Self.spoke1Address] = nil
        let moved: [UInt8] = [192, 0, 2, 77]
        let again = try h.spoke("spoke-1.example.net", at: moved, seed: 5)
        h.exchange()
        #expect(DynamicHub.established(again) == 1)
        let after = h.hubChildren
        #expect(after[TunnelID(peer: "spoke-1")]?.map(\.1.address) == [moved])
        #expect(after[TunnelID(peer: "spoke-2")]?.map(\.0) == before[TunnelID(peer: "spoke-2")]?.map(\.0))
        let live = h.hub.endpoint.ikeSAs.filter { !$0.finished }
        #expect(live.filter { $0.tunnel.peer == "spoke-1" }.count == 1)
        #expect(live.count == 2)
        #expect(h.hub.endpoint.currentRemote(of: TunnelID(peer: "spoke-1"))?.address == moved)
        // The old Child SA left the data plane.
        let old = try #require(before[TunnelID(peer: "spoke-1")]?.first?.0)
        #expect(h.hub.deleted.contains(old))
    }

    @Test("A spoke bound to the wildcard address learns its address from the IKE_SA_INIT response: IKE_AUTH and its Child SA carry it")
    func wildcardSpokeLearnsItsAddress() throws {
        let h = try DynamicHub(peers: ["spoke-1"])
        let s1 = try h.spoke("spoke-1.example.net", at: Self.spoke1Address, seed: 1, wildcard: true)
        h.exchange()
        #expect(DynamicHub.established(s1) == 1)
        let local = s1.actions.compactMap { if case .installChildSA(let sa, _) = $0 { sa.local } else { nil } }
        #expect(local.map(\.address) == [Self.spoke1Address])
        #expect(h.hubChildren[TunnelID(peer: "spoke-1")]?.map(\.1.address) == [Self.spoke1Address])
    }

    @Test("A hub with 300 dynamic spokes: 12 of them, from 12 unknown addresses, each on its own tunnel")
    func hubWithHundredsOfSpokes() throws {
        let names = (1...300).map { "spoke-\($0)" }
        let h = try DynamicHub(peers: names)
        let coming = stride(from: 7, through: 300, by: 25).map { $0 }
        for (k, n) in coming.enumerated() {
            try h.spoke("spoke-\(n).example.net", at: [198, 18, UInt8(k), 9], seed: UInt64(100 + k))
        }
        h.exchange()
        let tunnels = h.hub.endpoint.ikeSAs.filter { $0.spis != nil && !$0.finished }.map(\.tunnel.peer)
        #expect(tunnels.sorted() == coming.map { "spoke-\($0)" }.sorted())
        for (k, n) in coming.enumerated() {
            #expect(h.hubChildren[TunnelID(peer: "spoke-\(n)")]?.map(\.1.address) == [[198, 18, UInt8(k), 9]])
        }
        #expect(h.hubFactory.dynamicCalls == Array(repeating: 300, count: coming.count))
    }

    @Test("Admission still applies per source: over the cookie threshold a dynamic spoke comes in with its COOKIE")
    func admissionStillApplies() throws {
        let gate = IKEAdmissionGate(policy: IKEAdmissionPolicy(cookieThreshold: 0, perSourceCookieThreshold: 100,
                                                               unverifiedRate: IKERate(perSecond: 0, burst: 1000)),
                                    prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256), random: SeededRandomSource(seed: 42))
        let h = try DynamicHub(peers: ["spoke-1"], admission: gate)
        let s1 = try h.spoke("spoke-1.example.net", at: Self.spoke1Address, seed: 1)
        h.exchange()
        #expect(DynamicHub.established(s1) == 1)
        #expect(h.hub.counters.admission.cookiesSent == 1 && h.hub.counters.admission.cookiesAccepted == 1)
        #expect(h.hubFactory.dynamicCalls == [1], "the first IKE_SA_INIT cost no session")
    }
}

/// A peer known by DNS name: the factory resolves it anew for every IKE SA this end opens, and
/// the endpoint follows the answer (routing of the responses, the peer's remote for status).
struct EndpointRenamedPeerTests {
    @Test("The endpoint follows where the factory says the peer now is: the answer from the new address routes to the IKE SA")
    func followsResolvedAddress() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        // A's factory makes sessions toward B's real address (what the resolver answers now);
        // A's configured peer still has the old answer, 192.0.2.99.
        let factoryA = EndpointPair.EngineFactory(setup: setup, authenticator: try setup.pki.authenticator(try setup.pki.gateway("gw1.example.net")),
                                                  isA: true, reauthenticate: false, seed: 1)
        let factoryB = EndpointPair.EngineFactory(setup: setup, authenticator: try setup.pki.authenticator(try setup.pki.gateway("gw2.example.net")),
                                                  isA: false, reauthenticate: false, seed: 2)
        let a = EndpointProbe(factory: factoryA), b = EndpointProbe(factory: factoryB)
        let stale = IKEEndpoint(address: [192, 0, 2, 99], port: 500)
        a.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [stale.address], local: EndpointPair.a, remote: stale, initiator: true))
        b.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-a"), addresses: [EndpointPair.a.address], local: EndpointPair.b,
                                  remote: EndpointPair.a, initiator: false))
        let link = SimulationLink(now: IKEInstant(nanoseconds: 1_000_000_000))
        a.start(now: link.now)
        b.start(now: link.now)
        for _ in 0..<16 {
            (a.takeOutgoing() + b.takeOutgoing()).forEach(link.send)
            for d in link.takeDue() { (d.destination.address == EndpointPair.a.address ? a : b).receive(d, now: link.now) }
        }
        #expect(a.events.contains { if case .ikeSAEstablished = $0 { true } else { false } })
        #expect(a.counters.unknownPeer == 0)
        #expect(a.peers.first?.remote == EndpointPair.b && a.peers.first?.addresses == [EndpointPair.b.address])
        #expect(a.logged("peer address resolved anew"))
    }
}
