import ViaductCrypto
import CryptoCore
import IKEv2
import NetTypes
import PKI
import Testing

/// RFC 7296 §2.21: each failure sends the right notify and tells an engineer why.
struct EngineFailureTests {
    @Test("No common IKE proposal: <-- HDR, N(NO_PROPOSAL_CHOSEN); both sides name the proposals")
    func noCommonIKEProposal() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.initiatorIKE = [Proposals.cbc256modp3072]
        setup.responderIKE = [Proposals.gcm256, Proposals.chacha]
        let net = try setup.network()
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        let b = try #require(net.responderEvents.compactMap(\.failure).first)
        #expect(a.code == .noProposalChosen && a.reportedByPeer && a.notify == 14)
        #expect(b.code == .noProposalChosen && !b.reportedByPeer && b.notify == 14)
        #expect(b.message.contains("offered aes256-sha256-prfsha256-modp3072; we require one of aes256gcm16-prfsha384-ecp384, chacha20poly1305-prfsha256-x25519"))
        #expect(a.message.contains("aes256-sha256-prfsha256-modp3072"))
        #expect(net.wire.count == 2)
    }

    @Test("No common ESP proposal: IKE_AUTH answer carries N(NO_PROPOSAL_CHOSEN); both fail with the ESP text")
    func noCommonESPProposal() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.initiatorESP = [Proposals.espCBC256]
        setup.responderESP = [Proposals.espGCM256]
        let net = try setup.network()
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        let b = try #require(net.responderEvents.compactMap(\.failure).first)
        #expect(a.code == .noProposalChosen && a.reportedByPeer)
        #expect(b.code == .noProposalChosen)
        #expect(b.message.contains("offered ESP aes256-sha256; we require one of aes256gcm16"))
        #expect(a.message.contains("ESP proposals aes256-sha256"))
        #expect(net.initiatorEvents.compactMap(\.child).isEmpty && net.responderEvents.compactMap(\.child).isEmpty)
    }

    @Test("A responder with no ESP proposal (its data plane carries none of the tunnel's) answers N(NO_PROPOSAL_CHOSEN); the IKE SA stays up without a Child SA")
    func responderWithNoESPProposal() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.responderESP = []
        let net = try setup.network()
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        let b = try #require(net.responderEvents.compactMap(\.failure).first)
        #expect(a.code == .noProposalChosen && a.reportedByPeer)
        #expect(b.code == .noProposalChosen)
        #expect(net.initiatorEvents.compactMap(\.child).isEmpty && net.responderEvents.compactMap(\.child).isEmpty)
    }

    @Test("Untrusted CA: the responder answers N(AUTHENTICATION_FAILED) and says the certificate is untrusted")
    func wrongCA() throws {
        let pki = try SimulationPKI()
        let other = try SimulationPKI(name: "Some Other Root")
        let setup = SimulationSetup(pki: pki, ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = setup.network(initiatorAuth: try other.authenticator(try other.gateway("gw1.example.net"), trusting: [pki.root]),
                                responderAuth: try pki.authenticator(try pki.gateway("gw2.example.net")))
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        let b = try #require(net.responderEvents.compactMap(\.failure).first)
        #expect(b.code == .certificateInvalid && b.notify == 24)
        #expect(b.message.contains("certificate-untrusted"))
        #expect(a.code == .authenticationFailed && a.reportedByPeer && a.notify == 24)
        #expect(net.initiator.state != .established)
    }

    @Test("Expired peer certificate: rejected with certificate-expired")
    func expiredCertificate() throws {
        let pki = try SimulationPKI()
        let setup = SimulationSetup(pki: pki, ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let stale = try pki.gateway("gw2.example.net", notBefore: SimulationPKI.now - 400 * SimulationPKI.day,
                                    notAfter: SimulationPKI.now - SimulationPKI.day)
        let net = setup.network(initiatorAuth: try pki.authenticator(try pki.gateway("gw1.example.net")),
                                responderAuth: try pki.authenticator(stale))
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        #expect(a.code == .certificateInvalid && !a.reportedByPeer)
        #expect(a.message.contains("certificate-expired"))
        // §2.21.2: the initiator tells the responder in an INFORMATIONAL exchange.
        let last = try IKEMessage(decoding: try #require(net.wire.last).bytes)
        #expect(last.header.exchangeType == .informational)
    }

    @Test("Wrong identity: IDr names someone else, the responder refuses with AUTHENTICATION_FAILED")
    func wrongRequestedIdentity() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.initiatorPeerIdentity = .fqdn("gw3.example.net")
        let net = try setup.network()
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        let b = try #require(net.responderEvents.compactMap(\.failure).first)
        #expect(b.code == .identityMismatch && b.message.contains("gw3.example.net"))
        #expect(a.code == .authenticationFailed && a.reportedByPeer)
    }

    @Test("Wrong identity: the responder's certificate does not bind the identity it claims")
    func certificateDoesNotBindIdentity() throws {
        let pki = try SimulationPKI()
        var setup = SimulationSetup(pki: pki, ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.initiatorPeerIdentity = nil
        let net = setup.network(initiatorAuth: try pki.authenticator(try pki.gateway("gw1.example.net")),
                                responderAuth: try pki.authenticator(try pki.gateway("gw9.example.net")))
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        #expect(a.code == .identityMismatch)
        #expect(a.message.contains("gw2.example.net") && a.message.contains("identity-mismatch"))
    }

    @Test("TS_UNACCEPTABLE: the responder allows only IPv6, the initiator offers only IPv4")
    func trafficSelectorsUnacceptable() throws {
        var setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        setup.responderTrafficSelectors = [.anyIPv6]
        let pki = setup.pki
        let a0 = try pki.authenticator(try pki.gateway("gw1.example.net"))
        let b0 = try pki.authenticator(try pki.gateway("gw2.example.net"))
        var cfg = setup.configuration(.initiator)
        cfg.localTrafficSelectors = [.anyIPv4]
        cfg.remoteTrafficSelectors = [.anyIPv4]
        let a = IKESession(configuration: cfg, cryptoProvider: OpenSSLCryptoProvider(), random: SeededRandomSource(seed: 5), authenticator: a0)
        let b = IKESession(configuration: setup.configuration(.responder), cryptoProvider: OpenSSLCryptoProvider(),
                           random: SeededRandomSource(seed: 6), authenticator: b0)
        let net = SimulationNetwork(initiator: a, responder: b)
        net.run()
        let fa = try #require(net.initiatorEvents.compactMap(\.failure).first)
        let fb = try #require(net.responderEvents.compactMap(\.failure).first)
        #expect(fa.code == .trafficSelectorsUnacceptable && fa.notify == 38 && fa.reportedByPeer)
        #expect(fb.code == .trafficSelectorsUnacceptable && fb.message.contains("0.0.0.0/0"))
    }

    @Test("Unsupported critical payload in IKE_SA_INIT: <-- N(UNSUPPORTED_CRITICAL_PAYLOAD) with the type")
    func unsupportedCritical() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        // Build a request by hand: a valid-looking SA_INIT with an unknown critical payload type 200.
        let request = IKEMessage(
            header: IKEHeader(initiatorSPI: IKESPI(0x1122_3344_5566_7788), exchangeType: .ikeSAInit, flags: [.initiator], messageID: 0),
            payloads: [.unknown(type: 200, critical: true, body: [1, 2, 3])])
        net.deliver(IKEDatagram(bytes: try request.encoded(), source: SimulationSetup.gw1, destination: SimulationSetup.gw2))
        let answer = try IKEMessage(decoding: try #require(net.wire.last).bytes)
        #expect(answer.notifies.first?.type == .unsupportedCriticalPayload)
        #expect(answer.notifies.first?.data == [200])
        #expect(net.responderEvents.compactMap(\.failure).first?.notify == 1)
    }

    @Test("IKE_SA_INIT without KE: <-- N(INVALID_SYNTAX)")
    func invalidSyntax() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        let request = IKEMessage(
            header: IKEHeader(initiatorSPI: IKESPI(0x99), exchangeType: .ikeSAInit, flags: [.initiator], messageID: 0),
            payloads: [.securityAssociation(IKESecurityAssociation(proposals: [])), .nonce(IKENonce(data: [UInt8](repeating: 1, count: 32)))])
        net.deliver(IKEDatagram(bytes: try request.encoded(), source: SimulationSetup.gw1, destination: SimulationSetup.gw2))
        let answer = try IKEMessage(decoding: try #require(net.wire.last).bytes)
        #expect(answer.notifies.first?.type == .invalidSyntax)
        #expect(net.responderEvents.compactMap(\.failure).first?.code == .invalidSyntax)
    }

    @Test("Silent peer: §2.1 retransmissions at 4, 7.2, 13, 23, 42 s, then a timeout failure")
    func timeoutAfterRetransmissions() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        net.blackhole = { $0.destination == SimulationSetup.gw2 }
        net.run()
        let a = try #require(net.initiatorEvents.compactMap(\.failure).first)
        #expect(a.code == .timeout)
        #expect(a.message.contains("IKE_SA_INIT") && a.message.contains("5 retransmissions"))
        #expect(net.wire.count == 6)
        #expect(Set(net.wire.map(\.bytes)).count == 1)  // retransmissions are the same bytes
        // 4 + 7.2 + 12.96 + 23.328 + 41.99 + 75.58 s with strongSwan's defaults and no jitter.
        #expect(abs(net.now.seconds(since: IKEInstant(nanoseconds: 0)) - 165.06) < 0.1)
        #expect(net.initiator.nextDeadline == nil)
    }
}
