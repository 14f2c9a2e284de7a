import ViaductCrypto
import CryptoCore
import IKEv2

/// Builds an initiator (gw1, 192.0.2.1) and a responder (gw2, 198.51.100.1) with real OpenSSL
/// crypto, seeded randomness and the throwaway PKI.
struct SimulationSetup {
    static let gw1 = IKEEndpoint(address: [192, 0, 2, 1], port: 500)
    static let gw2 = IKEEndpoint(address: [198, 51, 100, 1], port: 500)

    var pki: SimulationPKI
    var initiatorIKE: [IKEAlgorithmSet]
    var responderIKE: [IKEAlgorithmSet]
    var initiatorESP: [ESPAlgorithmSet]
    var responderESP: [ESPAlgorithmSet]
    var retransmission = IKERetransmissionPolicy.strongSwanDefaults
    var halfOpenTimeout = 30.0
    var initiatorPeerIdentity: IKEIdentity? = .fqdn("gw2.example.net")
    var responderPeerIdentity: IKEIdentity? = .fqdn("gw1.example.net")
    var responderLocalIdentity: IKEIdentity = .fqdn("gw2.example.net")
    var responderTrafficSelectors: [IKETrafficSelector] = [.anyIPv4, .anyIPv6]
    var forceEncapsulation = false
    var childLifetime = 3_600.0
    var childRekeyMargin = 300.0
    var childRekeyJitter = 180.0
    var ikeLifetime = 14_400.0
    var ikeRekeyMargin = 1_800.0
    var ikeRekeyJitter = 900.0
    var dpdInterval = 0.0
    var dpdAction = IKEDPDAction.restart
    var sendInitialContact = true
    /// The roles configured with `reauthenticate` (RFC 7296 §2.8.3).
    var reauthenticate: Set<IKERole> = []
    /// RFC 7296 §2.15: each role's pre-shared key (`auth: psk`); none: certificates.
    var preSharedKeys: [IKERole: [UInt8]] = [:]

    init(pki: SimulationPKI, ike: IKEAlgorithmSet, esp: ESPAlgorithmSet) {
        self.pki = pki
        initiatorIKE = [ike]
        responderIKE = [ike]
        initiatorESP = [esp]
        responderESP = [esp]
    }

    func configuration(_ role: IKERole) -> IKEPeerConfiguration {
        let initiator = role == .initiator
        var c = IKEPeerConfiguration(
            role: role, local: initiator ? Self.gw1 : Self.gw2, peer: initiator ? Self.gw2 : Self.gw1,
            localIdentity: initiator ? .fqdn("gw1.example.net") : responderLocalIdentity,
            peerIdentity: initiator ? initiatorPeerIdentity : responderPeerIdentity,
            ikeProposals: initiator ? initiatorIKE : responderIKE, espProposals: initiator ? initiatorESP : responderESP,
            localTrafficSelectors: initiator ? [.anyIPv4, .anyIPv6] : responderTrafficSelectors,
            remoteTrafficSelectors: initiator ? [.anyIPv4, .anyIPv6] : responderTrafficSelectors,
            ikeLifetimeSeconds: ikeLifetime, childLifetimeSeconds: childLifetime,
            retransmission: retransmission, halfOpenTimeoutSeconds: halfOpenTimeout,
            forceUDPEncapsulation: initiator && forceEncapsulation,
            wallClock: IKEWallClock(epochSecondsAtInstantZero: SimulationPKI.now),
            sendInitialContact: sendInitialContact,
            childRekeyMarginSeconds: childRekeyMargin, childRekeyJitterSeconds: childRekeyJitter,
            ikeRekeyMarginSeconds: ikeRekeyMargin, ikeRekeyJitterSeconds: ikeRekeyJitter,
            dpdIntervalSeconds: dpdInterval, dpdAction: dpdAction, reauthenticate: reauthenticate.contains(role))
        c.preSharedKey = preSharedKeys[role].map(SecureBytes.init)
        return c
    }

    /// Sessions with the given authenticators and seeds.
    func network(initiatorAuth: any PeerAuthenticator, responderAuth: any PeerAuthenticator,
                 seed: UInt64 = 1, impairmentSeed: UInt64 = 0,
                 impairment: SimulationNetwork.Impairment = .none) -> SimulationNetwork {
        let a = IKESession(configuration: configuration(.initiator), cryptoProvider: OpenSSLCryptoProvider(),
                           random: SeededRandomSource(seed: seed), authenticator: initiatorAuth)
        let b = IKESession(configuration: configuration(.responder), cryptoProvider: OpenSSLCryptoProvider(),
                           random: SeededRandomSource(seed: seed &+ 0x1000), authenticator: responderAuth)
        return SimulationNetwork(initiator: a, responder: b, impairmentSeed: impairmentSeed, impairment: impairment)
    }

    /// The usual case: gw1 and gw2 certificates from `pki`.
    func network(seed: UInt64 = 1, impairmentSeed: UInt64 = 0,
                 impairment: SimulationNetwork.Impairment = .none) throws -> SimulationNetwork {
        network(initiatorAuth: try pki.authenticator(try pki.gateway("gw1.example.net")),
                responderAuth: try pki.authenticator(try pki.gateway("gw2.example.net")),
                seed: seed, impairmentSeed: impairmentSeed, impairment: impairment)
    }
}

enum Proposals {
    static let gcm256 = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.ecp384])
    static let gcm128x25519 = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 128)], prf: [.hmacSHA256], groups: [.curve25519])
    static let cbc256modp3072 = IKEAlgorithmSet(encryption: [.aesCBC(keyBits: 256)], integrity: [.hmacSHA256_128],
                                                prf: [.hmacSHA256], groups: [.modp3072])
    static let chacha = IKEAlgorithmSet(encryption: [.chacha20Poly1305], prf: [.hmacSHA256], groups: [.curve25519])
    /// ML-KEM as the only key exchange (draft-ietf-ipsecme-ikev2-mlkem): KEi is the encapsulation key, KEr the ciphertext.
    static let gcm256mlkem768 = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.mlkem768])

    static let espGCM256 = ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)])
    static let espGCM128 = ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 128)])
    static let espCBC256 = ESPAlgorithmSet(encryption: [.aesCBC(keyBits: 256)], integrity: [.hmacSHA256_128])
    static let espChaCha = ESPAlgorithmSet(encryption: [.chacha20Poly1305])
    static let espGCM256PFS = ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], groups: [.curve25519])
    static let espGCM256MLKEM = ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], groups: [.mlkem1024])
    static let espCBC256PFS = ESPAlgorithmSet(encryption: [.aesCBC(keyBits: 256)], integrity: [.hmacSHA256_128], groups: [.ecp384])
}
