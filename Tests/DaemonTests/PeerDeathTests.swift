import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import Testing
import Topology

/// What the daemon does when a peer dies or restarts: its Child SAs leave the data plane (so
/// the tunnel interface goes down and BGP reconverges), status says why in words, and a
/// restarted peer's INITIAL_CONTACT retires the stale SA at once instead of minutes later.
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

    func child(_ inbound: UInt32) -> ChildSAParameters {
        ChildSAParameters(inboundSPI: ESPSPI(inbound), outboundSPI: ESPSPI(inbound + 1), encryption: .aesGCM16(keyBits: 256), integrity: nil,
                          extendedSequenceNumbers: false, inboundEncryptionKey: SecureBytes([UInt8](repeating: 1, count: 36)),
                          outboundEncryptionKey: SecureBytes([UInt8](repeating: 2, count: 36)), inboundIntegrityKey: nil,
                          outboundIntegrityKey: nil, local: local, peer: remote, udpEncapsulation: true, lifetimeSeconds: 3600)
    }

    func established(_ spiI: UInt64, _ spiR: UInt64) -> IKEEvent {
        .ikeSAEstablished(initiatorSPI: IKESPI(spiI), responderSPI: IKESPI(spiR), proposal: "aes256gcm16-prfsha384-ecp384",
                          peerIdentity: "gw-b.example.net", local: local, peer: remote)
    }

    func fromB(_ bytes: [UInt8]) -> IKEDatagram {
        IKEDatagram(bytes: bytes, source: IKEEndpoint(address: gwB, port: 4500), destination: IKEEndpoint(address: gwA, port: 4500))
    }

    /// A responder session for IKE SA `spiI`, established with Child SA `inbound`, plus `extra`
    /// events between the IKE SA and the Child SA (as the engine orders them).
    func openResponderSA(_ core: EndpointDriver, _ factory: FakeFactory, spiI: UInt64, inbound: UInt32,
                         extra: [IKEEvent] = []) throws -> FakeSession {
        core.receive(fromB(ikeMessage(spiI: spiI, spiR: 0, initiator: true, response: false)), now: t0)
        let s = try #require(factory.made.last)
        s.events = [established(spiI, s.spi)] + extra + [.childSAReady(child(inbound))]
        core.receive(fromB(ikeMessage(spiI: spiI, spiR: s.spi, exchange: 35, initiator: true, response: false, messageID: 1)), now: t0)
        return s
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
            book.record(peer: peer, event: event, now: self.t0, epochSeconds: 0)
            switch event {
            case .childSAReady(let sa): _ = links.installed(peer: peer, inboundSPI: sa.inboundSPI)
            case .childSADeleted(let inbound, _): _ = links.deleted(peer: peer, inboundSPI: inbound)
            default: break
            }
        }
        core.start(now: t0)
        let s = try #require(factory.made.first)
        s.events = [established(s.spi, 0xBEEF), .childSAReady(child(0xC1)), .childSAReady(child(0xC3))]
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

    @Test func initialContactRetiresTheStaleSAAndItsChildSAs() throws {
        let (core, factory, dp, _) = makeCore(initiator: false)
        var deletedEvents: [ESPSPI] = []
        core.onEvent = { _, e in if case .childSADeleted(let i, _) = e { deletedEvents.append(i) } }
        core.start(now: t0)
        let old = try openResponderSA(core, factory, spiI: 0xAAAA, inbound: 0xC1)
        old.nextDeadline = t0.adding(seconds: 10)  // its DPD would fire much later
        #expect(dp.installed == [0xC1])

        // The peer restarted: a new IKE SA with INITIAL_CONTACT.
        _ = try openResponderSA(core, factory, spiI: 0xBBBB, inbound: 0xD1, extra: [.initialContact(peerIdentity: "gw-b.example.net")])
        #expect(dp.deleted == [0xC1])
        #expect(deletedEvents == [0xC1])
        #expect(dp.installed == [0xC1, 0xD1])
        #expect(core.liveSessionCount == 1)
        // The stale SA is gone: its DPD never fires, its SPI is unknown now.
        #expect(core.nextDeadline == nil)
        let before = core.counters.unknownSPI
        core.receive(fromB(ikeMessage(spiI: 0xAAAA, spiR: old.spi, exchange: 37, initiator: true, response: false, messageID: 2)), now: t0)
        #expect(core.counters.unknownSPI == before + 1)
    }

    @Test func withoutInitialContactASecondSAKeepsTheFirst() throws {
        let (core, factory, dp, _) = makeCore(initiator: false)
        core.start(now: t0)
        _ = try openResponderSA(core, factory, spiI: 0xAAAA, inbound: 0xC1)
        _ = try openResponderSA(core, factory, spiI: 0xBBBB, inbound: 0xD1)
        #expect(dp.installed == [0xC1, 0xD1])
        #expect(dp.deleted.isEmpty)
        #expect(core.liveSessionCount == 2)
    }
}
