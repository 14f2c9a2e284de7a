import ViaductCrypto
import CryptoCore
import IKEv2
import NetTypes
import PKI
import Topology

/// The production factory: one engine `IKESession` per IKE SA, configured from the plan,
/// keyed with OpenSSL, authenticated with the node's X.509 credentials.
public final class EngineSessionFactory: IKESessionFactory, CredentialCarrying {
    public let credentials: NodeCredentials
    public let peerCertificates: PeerCertificateBook?
    private let tunnels: [TunnelID: TunnelPlan]
    /// Built once for the node's credentials and shared by every session: building one per
    /// session re-checked the key against the certificate on every handshake.
    private let authenticator: Result<X509PeerAuthenticator, DaemonError>
    private let ports: IKEPorts
    private let wallClock: IKEWallClock
    private let forceUDPEncapsulation: Bool
    /// RFC 7296 §2.1 timers; with DPD they bound how long a dead peer goes unnoticed.
    private let retransmission: IKERetransmissionPolicy
    /// The ESP transforms the chosen data plane can install; only those are offered and accepted.
    private let espSupport: DataplaneKind
    /// RFC 7296 §2.15: the keys of the `auth: psk` tunnels; the others use the certificate.
    public let preSharedKeys: PreSharedKeys
    /// The `dynamic` peers' configurations, built on the first IKE_SA_INIT that needs them.
    private var dynamicPeers: IKEDynamicPeerList?
    /// Resolves peers known by name for each IKE SA this end opens, off the event loop (nil: the
    /// plan's address). Shared by the factories of successive plans.
    private let names: PeerNameResolver?
    /// The underlay path MTU to an address from a local one (policy routing), for
    /// `ike.fragment-size: auto` (nil: unknown).
    public var pathMTU: ((IPAddress, IPAddress) -> Int?)?

    /// - Parameter wallClock: maps the daemon's monotonic instants onto epoch seconds for
    ///   certificate validity.
    public convenience init(plan: NodePlan, credentials: NodeCredentials, ports: IKEPorts, clock: any MonotonicClock,
                            wall: any WallClock, forceUDPEncapsulation: Bool = false,
                            retransmission: IKERetransmissionPolicy = IKERetransmissionPolicy(),
                            espSupport: DataplaneKind = .kernel, peerCertificates: PeerCertificateBook? = nil,
                            preSharedKeys: PreSharedKeys = PreSharedKeys(), names: PeerNameResolver? = nil) {
        let zero = wall.epochSeconds() - Int64(clock.now().nanoseconds / 1_000_000_000)
        self.init(plan: plan, credentials: credentials, ports: ports,
                  wallClock: IKEWallClock(epochSecondsAtInstantZero: zero), forceUDPEncapsulation: forceUDPEncapsulation,
                  retransmission: retransmission, espSupport: espSupport, peerCertificates: peerCertificates,
                  preSharedKeys: preSharedKeys, names: names)
    }

    public init(plan: NodePlan, credentials: NodeCredentials, ports: IKEPorts, wallClock: IKEWallClock,
                forceUDPEncapsulation: Bool = false, retransmission: IKERetransmissionPolicy = IKERetransmissionPolicy(),
                espSupport: DataplaneKind = .kernel, peerCertificates: PeerCertificateBook? = nil,
                preSharedKeys: PreSharedKeys = PreSharedKeys(), names: PeerNameResolver? = nil) {
        self.names = names
        self.peerCertificates = peerCertificates
        var t: [TunnelID: TunnelPlan] = [:]
        for tunnel in plan.tunnels { t[tunnel.tunnel] = tunnel }
        tunnels = t
        self.credentials = credentials
        do {
            authenticator = .success(try X509PeerAuthenticator(certificate: credentials.certificate,
                                                               intermediates: credentials.intermediates,
                                                               privateKey: credentials.privateKey,
                                                               validator: credentials.validator))
        } catch {
            authenticator = .failure(DaemonError(.credentials, "cannot use the node's certificate: \(error)"))
        }
        self.ports = ports
        self.wallClock = wallClock
        self.forceUDPEncapsulation = forceUDPEncapsulation
        self.retransmission = retransmission
        self.espSupport = espSupport
        self.preSharedKeys = preSharedKeys
    }

    public func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        try makeSession(for: peer, initiator: initiator, initialContact: true)
    }

    public func makeSession(for peer: IKETunnelPeer, initiator: Bool, initialContact: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        let (config, authenticator) = try parts(for: peer, initiator: initiator, initialContact: initialContact)
        return IKESession(configuration: config, cryptoProvider: OpenSSLCryptoProvider(),
                          random: OpenSSLRandomSource(), authenticator: authenticator)
    }

    /// RFC 7296 §3.5: one responder for every `dynamic` peer, IKE_AUTH's identity picks its
    /// tunnel (IKEDynamicPeers.swift). The peers' configurations are built once per factory (a
    /// new plan or credentials make a new factory), not per IKE_SA_INIT.
    public func makeDynamicResponder(for peers: [IKETunnelPeer]) throws(IKESessionFactoryError) -> any IKESessionDriving {
        let list: IKEDynamicPeerList
        if let cached = dynamicPeers, cached.peers.map(\.tunnel) == peers.map(\.tunnel) {
            list = cached
        } else {
            var built: [IKEDynamicPeer] = []
            for p in peers {
                // A peer whose configuration fails (its key file not loaded) is left out, and
                // is refused by identity like a stranger; the others still come in.
                guard let (config, authenticator) = try? parts(for: p, initiator: false, initialContact: true) else { continue }
                built.append(IKEDynamicPeer(tunnel: p.tunnel, configuration: config, authenticator: authenticator))
            }
            list = IKEDynamicPeerList(built)
            dynamicPeers = list
        }
        guard let initial = list.initialConfiguration, let authenticator = list.peers.first?.authenticator else {
            throw IKESessionFactoryError("no usable configuration for the dynamic peers (\(peers.map(\.name).joined(separator: ", ")))")
        }
        return IKESession(configuration: initial, cryptoProvider: OpenSSLCryptoProvider(), random: OpenSSLRandomSource(),
                          authenticator: authenticator, dynamicPeers: list)
    }

    private func parts(for peer: IKETunnelPeer, initiator: Bool,
                       initialContact: Bool) throws(IKESessionFactoryError) -> (IKEPeerConfiguration, any PeerAuthenticator) {
        guard let tunnel = tunnels[peer.tunnel] else {
            throw IKESessionFactoryError("no tunnel planned to peer \(peer.name)")
        }
        // A peer known by name is looked up again for every IKE SA we open (start,
        // re-initiation, after DPD gave up on it), off the event loop: until the answer is in,
        // the endpoint waits (`IKESessionFactoryError.waiting`); a changed answer moves the tunnel.
        let resolved = initiator ? try names?.endpoint(for: tunnel) : nil
        let target = resolved ?? tunnel.ike.peerAddress
        var config: IKEPeerConfiguration
        do {
            config = try PeerConfigurationMapper.configuration(
                for: tunnel, ports: ports, wallClock: wallClock, initiator: initiator,
                forceUDPEncapsulation: forceUDPEncapsulation, retransmission: retransmission, dataplane: espSupport,
                pathMTU: tunnel.ike.fragmentSize == .auto && !target.isUnspecified ? pathMTU?(target, tunnel.ike.localAddress) : nil)
        } catch {
            throw IKESessionFactoryError(error.message)
        }
        config.sendInitialContact = initialContact
        if let resolved { config.peer = IKEEndpoint(address: resolved.bytes, port: ports.ike) }
        if case .psk(let path) = tunnel.ike.auth {
            guard let key = preSharedKeys.byTunnel[peer.tunnel] else {
                throw IKESessionFactoryError("the pre-shared key of the tunnel to \(peer.name) (\(path)) is not loaded")
            }
            config.preSharedKey = key
        }
        let authenticator: X509PeerAuthenticator
        switch self.authenticator {
        case .success(let a): authenticator = a
        case .failure(let e): throw IKESessionFactoryError("\(e.message) (for \(peer.name))")
        }
        let observed: any PeerAuthenticator = peerCertificates.map {
            ObservingAuthenticator(authenticator, tunnel: peer.tunnel, book: $0)
        } ?? authenticator
        return (config, observed)
    }
}
