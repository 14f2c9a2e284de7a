import ViaductCrypto
import CryptoCore
import Daemon
import IKEv2
import PKI
import Topology

/// IKE_SA_INIT + IKE_AUTH with the first Child SA between two in-process engines, datagrams
/// handed across in memory (no sockets), with a throwaway PKI. Lives here, not in the app, so
/// `viaduct bench handshake` stays a printer. Time is read by the caller.
///
/// `Sendable`, and `run()` may be called from several threads at once: every call makes its
/// own pair of sessions; what they share (certificates, keys, the validator's trust store) is
/// immutable, as in the daemon, where one node's credentials serve every session.
public struct HandshakeBenchmark: Sendable {
    var initiatorConfig: IKEPeerConfiguration
    var responderConfig: IKEPeerConfiguration
    /// One per side, shared by every session that side runs (the daemon does the same:
    /// `EngineSessionFactory` makes one for the node's credentials).
    let initiatorAuth: X509PeerAuthenticator
    let responderAuth: X509PeerAuthenticator

    /// Takes the topology's proposals so the app need not know the engine's types. With
    /// `withCRL`, both sides check revocation against an (empty) CRL of the CA, which makes
    /// every handshake run OpenSSL's whole chain validation (see `TrustStore`).
    public init(keyType: KeyType, ikeProposal: Proposal, espProposal: Proposal, epochNow: Int64, withCRL: Bool = false) throws {
        let ike = IKEAlgorithmSet(proposal: ikeProposal)
        let esp = ESPAlgorithmSet(encryption: espProposal.encryption, integrity: espProposal.integrity, esn: espProposal.esn)
        let caKey = try PrivateKey.generate(keyType)
        let ca = try PKI.selfSign(.certificateAuthority(subject: "CN=Bench CA", notBefore: epochNow - 3600,
                                                        notAfter: epochNow + 86_400, pathLength: 0), key: caKey)
        func gateway(_ name: String) throws -> (Certificate, PrivateKey) {
            let k = try PrivateKey.generate(keyType)
            let c = try PKI.issue(.gateway(subject: "CN=\(name)", subjectAltNames: [.dns(name)], notBefore: epochNow - 3600,
                                           notAfter: epochNow + 86_400), publicKey: k.publicKey, issuer: ca, issuerKey: caKey)
            return (c, k)
        }
        let (ic, ik) = try gateway("a.bench.example")
        let (rc, rk) = try gateway("b.bench.example")
        let crls = withCRL
            ? [try PKI.issueCRL(issuer: ca, issuerKey: caKey, revoked: [], crlNumber: 1,
                                thisUpdate: epochNow - 3600, nextUpdate: epochNow + 86_400)]
            : []
        // Each side validates with its own validator, as two gateways would.
        initiatorAuth = try X509PeerAuthenticator(certificate: ic, privateKey: ik,
                                                  validator: CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [ca], crls: crls)))
        responderAuth = try X509PeerAuthenticator(certificate: rc, privateKey: rk,
                                                  validator: CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [ca], crls: crls)))
        let a = IKEEndpoint(address: [192, 0, 2, 1], port: 500), b = IKEEndpoint(address: [192, 0, 2, 2], port: 500)
        let wall = IKEWallClock(epochSecondsAtInstantZero: epochNow)
        initiatorConfig = IKEPeerConfiguration(role: .initiator, local: a, peer: b, localIdentity: .fqdn("a.bench.example"),
                                               peerIdentity: .fqdn("b.bench.example"), ikeProposals: [ike], espProposals: [esp],
                                               wallClock: wall)
        responderConfig = IKEPeerConfiguration(role: .responder, local: b, peer: a, localIdentity: .fqdn("b.bench.example"),
                                               peerIdentity: .fqdn("a.bench.example"), ikeProposals: [ike], espProposals: [esp],
                                               wallClock: wall)
    }

    /// Moves both engines' wall clock (certificate validity), for tests of failure paths.
    mutating func shiftWallClock(bySeconds s: Int64) {
        initiatorConfig.wallClock.epochSecondsAtInstantZero += s
        responderConfig.wallClock.epochSecondsAtInstantZero += s
    }

    func makeInitiator() -> IKESession {
        IKESession(configuration: initiatorConfig, cryptoProvider: OpenSSLCryptoProvider(),
                   random: OpenSSLRandomSource(), authenticator: initiatorAuth)
    }

    func makeResponder() -> IKESession {
        IKESession(configuration: responderConfig, cryptoProvider: OpenSSLCryptoProvider(),
                   random: OpenSSLRandomSource(), authenticator: responderAuth)
    }

    /// One complete setup; throws when either side does not end with a Child SA.
    public func run() throws {
        let i = makeInitiator()
        let r = makeResponder()
        let now = IKEInstant(nanoseconds: 1_000_000_000)
        i.start(now: now)
        var iReady = false, rReady = false
        for _ in 0..<16 where !(iReady && rReady) {
            while let d = i.pollTransmit() { r.receive(d, now: now) }
            while let d = r.pollTransmit() { i.receive(d, now: now) }
            while let e = i.pollEvent() { if case .childSAReady = e { iReady = true }; if case .ikeSAFailed(let f) = e { throw f } }
            while let e = r.pollEvent() { if case .childSAReady = e { rReady = true }; if case .ikeSAFailed(let f) = e { throw f } }
        }
        guard iReady && rReady else { throw DaemonError(.system, "handshake did not complete") }
    }
}
