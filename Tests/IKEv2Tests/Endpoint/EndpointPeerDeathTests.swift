import CryptoCore
@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// A restarted peer at the endpoint: its INITIAL_CONTACT retires the stale SA and its Child SAs
/// at once instead of minutes later (the dead-peer status is in DaemonTests' PeerDeathTests).
struct EndpointPeerDeathTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)
    let local = IKEEndpoint(address: gwA, port: 4500)
    let remote = IKEEndpoint(address: gwB, port: 4500)

    func makeCore(initiator: Bool) -> (EndpointProbe, FakeFactory) {
        let factory = FakeFactory()
        let core = EndpointProbe.withPeerB(factory, initiator: initiator, reinitiateDelaySeconds: 3)
        // A responder answers IKE_SA_INIT, which is how the daemon learns its SPI.
        factory.responderScript = { s, d in
            guard s.received.count == 1, let route = try? IKEHeader(decoding: d.bytes) else { return }
            s.transmit.append(IKEDatagram(bytes: ikeMessage(spiI: route.initiatorSPI.rawValue, spiR: s.spi, initiator: false, response: true),
                                          source: d.destination, destination: d.source))
        }
        return (core, factory)
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
    func openResponderSA(_ core: EndpointProbe, _ factory: FakeFactory, spiI: UInt64, inbound: UInt32,
                         extra: [IKEEvent] = []) throws -> FakeSession {
        core.receive(fromB(ikeMessage(spiI: spiI, spiR: 0, initiator: true, response: false)), now: t0)
        let s = try #require(factory.made.last)
        s.events = [established(spiI, s.spi)] + extra + [.childSAReady(scriptedChildSA(inbound))]
        core.receive(fromB(ikeMessage(spiI: spiI, spiR: s.spi, exchange: 35, initiator: true, response: false, messageID: 1)), now: t0)
        return s
    }

    @Test func initialContactRetiresTheStaleSAAndItsChildSAs() throws {
        let (core, factory) = makeCore(initiator: false)
        var deletedEvents: [ESPSPI] { core.events.compactMap { if case .childSADeleted(let i, _) = $0 { i } else { nil } } }
        core.start(now: t0)
        let old = try openResponderSA(core, factory, spiI: 0xAAAA, inbound: 0xC1)
        old.nextDeadline = t0.adding(seconds: 10)  // its DPD would fire much later
        #expect(core.installed == [0xC1])

        // The peer restarted: a new IKE SA with INITIAL_CONTACT.
        _ = try openResponderSA(core, factory, spiI: 0xBBBB, inbound: 0xD1, extra: [.initialContact(peerIdentity: "gw-b.example.net")])
        #expect(core.deleted == [0xC1])
        #expect(deletedEvents == [0xC1])
        #expect(core.installed == [0xC1, 0xD1])
        #expect(core.liveSessionCount == 1)
        // The stale SA is gone: its DPD never fires, its SPI is unknown now.
        #expect(core.nextDeadline == nil)
        let before = core.counters.unknownSPI
        core.receive(fromB(ikeMessage(spiI: 0xAAAA, spiR: old.spi, exchange: 37, initiator: true, response: false, messageID: 2)), now: t0)
        #expect(core.counters.unknownSPI == before + 1)
    }

    @Test func withoutInitialContactASecondSAKeepsTheFirst() throws {
        let (core, factory) = makeCore(initiator: false)
        core.start(now: t0)
        _ = try openResponderSA(core, factory, spiI: 0xAAAA, inbound: 0xC1)
        _ = try openResponderSA(core, factory, spiI: 0xBBBB, inbound: 0xD1)
        #expect(core.installed == [0xC1, 0xD1])
        #expect(core.deleted.isEmpty)
        #expect(core.liveSessionCount == 2)
    }
}
