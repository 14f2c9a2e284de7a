import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import Testing
import TestSupport
import Topology

/// What the daemon does when a peer dies: its Child SAs leave the data plane (so the tunnel
/// interface goes down and BGP reconverges) and status says why in words. A restarted peer's
/// INITIAL_CONTACT at the endpoint is in IKEv2Tests' EndpointPeerDeathTests.
struct PeerDeathTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)
    let local = IKEEndpoint(address: gwA, port: 4500)
    let remote = IKEEndpoint(address: gwB, port: 4500)

    func makeCore(initiator: Bool) -> (EndpointDriver, FakeFactory, RecordingDataplane, [(String, IKEEvent)]) {
        let factory = FakeFactory()
        let dp = RecordingDataplane()
        let core = EndpointDriver(factory: factory, dataplane: dp, logger: LogCapture().logger(), reinitiateDelaySeconds: 3)
        // A responder answers IKE_SA_INIT, which is how the daemon learns its SPI.
        factory.responderScript = { s, d in
            guard s.received.count == 1, let route = try? IKEHeader(decoding: d.bytes) else { return }
            s.transmit.append(IKEDatagram(bytes: ikeMessage(spiI: route.initiatorSPI.rawValue, spiR: s.spi, initiator: false, response: true),
                                          source: d.destination, destination: d.source))
        }
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: IKEEndpoint(address: gwA, port: 500),
                                  remote: IKEEndpoint(address: gwB, port: 500), initiator: initiator))
        return (core, factory, dp, [])
    }

    func established(_ spiI: UInt64, _ spiR: UInt64) -> IKEEvent {
        .ikeSAEstablished(initiatorSPI: IKESPI(spiI), responderSPI: IKESPI(spiR), proposal: "aes256gcm16-prfsha384-ecp384",
                          peerIdentity: "gw-b.example.net", local: local, peer: remote)
    }

    func fromB(_ bytes: [UInt8]) -> IKEDatagram {
        IKEDatagram(bytes: bytes, source: IKEEndpoint(address: gwB, port: 4500), destination: IKEEndpoint(address: gwA, port: 4500))
    }

    @Test func deadPeerTakesItsChildSAsOutOfTheDataplaneAndStatusSaysWhy() throws {
        let (core, factory, dp, _) = makeCore(initiator: true)
        let text = """
            version: 1
            pki: { ca: ca.pem }
            gateways:
              a: { address: 192.0.2.1, certificate: c, key: k }
              gw-b: { address: 192.0.2.2, certificate: c, key: k }
            tunnels:
              - between: [a, gw-b]
                inside: 169.254.40.0/30
            """
        let loaded = TopologyLoader.load(yaml: text, file: "death.yaml")
        let plan = try NodePlanner.plan(try #require(loaded.topology), links: loaded.links, node: "a", fileExists: { _ in true }).get()
        let book = TunnelStatusBook(plan: plan, peers: core.peers, dataplane: "test", startedAt: t0)
        var links = TunnelLinkStates(interfaces: ["gw-b": plan.tunnels[0].interface.name])
        core.onEvent = { peer, event in
            book.record(tunnel: peer, event: event, now: self.t0, epochSeconds: 0)
            switch event {
            case .childSAReady(let sa): _ = links.installed(peer, inboundSPI: sa.inboundSPI)
            case .childSADeleted(let inbound, _): _ = links.deleted(peer, inboundSPI: inbound)
            default: break
            }
        }
        core.start(now: t0)
        let s = try #require(factory.made.first)
        s.events = [established(s.spi, 0xBEEF), .childSAReady(scriptedChildSA(0xC1)), .childSAReady(scriptedChildSA(0xC3))]
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, exchange: 35, initiator: false, response: true, messageID: 1)), now: t0)
        #expect(links.down.isEmpty)
        #expect(book.snapshot(now: t0, daemon: core.counters) { _ in nil }.tunnels[0].state == .established)

        // The liveness check goes unanswered: the engine reports the dead peer, then the failure.
        s.events = [.deadPeer(action: .restart),
                    .ikeSAFailed(IKEFailure(.deadPeer, "peer 192.0.2.2:4500 stopped answering: no response to INFORMATIONAL after 2 retransmissions over 6s; action restart"))]
        s.nextDeadline = t0.adding(seconds: 10)
        core.fireTimers(now: t0.adding(seconds: 10))
        #expect(Set(dp.deleted) == [0xC1, 0xC3])
        #expect(links.down == [plan.tunnels[0].interface.name])
        let status = book.snapshot(now: t0.adding(seconds: 10), daemon: core.counters) { _ in nil }.tunnels[0]
        #expect(status.state == .down)
        #expect(status.childSAs.isEmpty)
        #expect(status.lastError?.code == "dead-peer")
        let reason = try #require(status.reason)
        #expect(reason.contains("stopped answering"))
        #expect(reason.contains("retrying"))
        // The initiator opens a new IKE SA after the pause, with nobody typing a command.
        #expect(core.nextDeadline == t0.adding(seconds: 13))
        core.fireTimers(now: t0.adding(seconds: 13))
        #expect(factory.made.count == 2)
    }
}
