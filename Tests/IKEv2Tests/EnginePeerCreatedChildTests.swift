import CryptoCore
@testable import IKEv2
import NetTypes
import Testing

/// RFC 7296 §1.3.1: a peer that deleted the tunnel's Child SA creates a new one inside the same
/// IKE SA (a CREATE_CHILD_SA without REKEY_SA, as strongSwan's `swanctl --initiate --child`,
/// trap, DPD restart and close actions send). The engine never initiates that exchange, so the
/// tests build the request with the other side's keys (`newChildRequest`) and read the answer
/// with them.
struct EnginePeerCreatedChildTests {
    /// Sends `from`'s CREATE_CHILD_SA request for a new Child SA (inbound SPI `spi`, our ESP
    /// proposals or `esp`, the configured selectors) to `to`; returns `to`'s response payloads.
    static func newChildRequest(_ net: SimulationNetwork, from a: IKESession, to b: IKESession, spi: ESPSPI,
                                esp: [ESPAlgorithmSet]? = nil,
                                nonce: [UInt8] = Array(repeating: 0x5a, count: 32)) throws -> [IKEPayload] {
        let proposals = (esp ?? a.configuration.espProposals).enumerated().map {
            $1.wireProposal(number: UInt8(truncatingIfNeeded: $0 + 1), spi: spi, withGroups: true)
        }
        let payloads: [IKEPayload] = [
            .securityAssociation(IKESecurityAssociation(proposals: proposals)),
            .nonce(IKENonce(data: nonce)),
            .trafficSelectorInitiator(IKETrafficSelectors(a.configuration.localTrafficSelectors)),
            .trafficSelectorResponder(IKETrafficSelectors(a.configuration.remoteTrafficSelectors)),
        ]
        let messageID = a.window.takeRequestID()
        let bytes = try a.sealed(a.header(.createChildSA, messageID: messageID, response: false), payloads)
        b.receive(IKEDatagram(bytes: bytes, source: a.local, destination: b.local), now: net.now)
        let answer = try #require(b.pollTransmit())
        return try #require(a.openProtected(try IKEMessage(decoding: answer.bytes), answer))
    }

    static func events(_ s: IKESession) -> [IKEEvent] {
        var out: [IKEEvent] = []
        while let e = s.pollEvent() { out.append(e) }
        return out
    }

    static func notifies(_ payloads: [IKEPayload]) -> [IKENotifyType] {
        payloads.compactMap { if case .notify(let n) = $0 { n.type } else { nil } }
    }

    @Test("The peer deleted the Child SA and creates a new one in the same IKE SA: it is accepted, installed and carries outbound traffic at once",
          arguments: [false, true])
    func acceptedWhenTheTunnelHasNone(askedOfInitiator: Bool) throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        let (peer, us) = askedOfInitiator ? (net.responder, net.initiator) : (net.initiator, net.responder)
        let old = try #require(us.childSA)
        // The peer deletes the Child SA (strongSwan: swanctl --terminate --child).
        peer.deleteChildSA(inboundSPI: try #require(peer.childSA).inboundSPI, now: net.now)
        net.run(limit: 10)
        #expect(us.childSAs.isEmpty && peer.childSAs.isEmpty)
        _ = Self.events(us)
        let ikeSPIs = us.localIKESPIs

        let answer = try Self.newChildRequest(net, from: peer, to: us, spi: 0xc0ffee01)
        #expect(Self.notifies(answer).isEmpty, "\(Self.notifies(answer))")
        let sa = try #require(answer.compactMap { if case .securityAssociation(let s) = $0 { s } else { nil } }.first)
        #expect(sa.proposals.count == 1)
        #expect(answer.contains { if case .trafficSelectorInitiator = $0 { true } else { false } })
        let child = try #require(us.childSA)
        #expect(child.outboundSPI == 0xc0ffee01 && child.inboundSPI != old.inboundSPI)
        #expect(sa.proposals.first?.espSPI == child.inboundSPI)
        let ready = Self.events(us).compactMap { if case .childSAReady(let p) = $0 { p } else { nil } }
        #expect(ready.count == 1)
        #expect(ready.first?.activateOutbound == true && ready.first?.replacesInboundSPI == nil)
        // Same IKE SA; still established.
        #expect(us.state == .established && us.localIKESPIs == ikeSPIs)
    }

    @Test("A second Child SA while one is installed is refused with NO_ADDITIONAL_SAS and a reason; the installed one stays")
    func refusedWhileOneIsInstalled() throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        let us = net.responder
        let installed = try #require(us.childSA)
        _ = Self.events(us)
        let answer = try Self.newChildRequest(net, from: net.initiator, to: us, spi: 0xc0ffee02)
        #expect(Self.notifies(answer) == [.noAdditionalSAs])
        #expect(us.childSAs.map(\.inboundSPI) == [installed.inboundSPI])
        let refused = Self.events(us).compactMap { e -> (String, UInt16)? in
            if case .childSARefused(let r, let n) = e { (r, n) } else { nil }
        }
        #expect(refused.count == 1)
        #expect(refused.first?.1 == IKENotifyType.noAdditionalSAs.rawValue)
        #expect(refused.first?.0.contains("\(SPIText.child(installed.inboundSPI))_i installed") == true)
        #expect(us.state == .established)
    }

    @Test("A new Child SA offering only proposals we do not accept is answered NO_PROPOSAL_CHOSEN; nothing is installed")
    func refusedProposal() throws {
        let (net, _) = try EngineRekeyTests.tunnel()
        let us = net.responder
        net.initiator.deleteChildSA(inboundSPI: try #require(net.initiator.childSA).inboundSPI, now: net.now)
        net.run(limit: 10)
        _ = Self.events(us)
        let answer = try Self.newChildRequest(net, from: net.initiator, to: us, spi: 0xc0ffee03, esp: [Proposals.espChaCha])
        #expect(Self.notifies(answer) == [.noProposalChosen])
        #expect(us.childSAs.isEmpty && us.state == .established)
    }
}
