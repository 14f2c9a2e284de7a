import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import Testing

/// The event loop's logic with scripted sessions and a fake clock: routing by (SPI, peer),
/// responder sessions on demand, deadlines, events to the data plane and the log.
struct DaemonCoreTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    func makeCore(initiator: Bool, capture: LogCapture = LogCapture())
        -> (EndpointDriver, FakeFactory, RecordingDataplane) {
        let factory = FakeFactory()
        let dp = RecordingDataplane()
        let core = EndpointDriver(factory: factory, dataplane: dp, logger: capture.logger(), reinitiateDelaySeconds: 10)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: IKEEndpoint(address: gwA, port: 500),
                                  remote: IKEEndpoint(address: gwB, port: 500), initiator: initiator))
        return (core, factory, dp)
    }

    func fromB(_ bytes: [UInt8], port: UInt16 = 500) -> IKEDatagram {
        IKEDatagram(bytes: bytes, source: IKEEndpoint(address: gwB, port: port), destination: IKEEndpoint(address: gwA, port: port))
    }

    @Test func initiatorSendsAndResponseRoutesByLearnedSPI() throws {
        let (core, factory, _) = makeCore(initiator: true)
        core.start(now: t0)
        let out = core.takeOutgoing()
        #expect(out.count == 1)
        #expect(out.first?.destination == IKEEndpoint(address: gwB, port: 500))
        let s = try #require(factory.made.first)
        // IKE_SA_INIT response: our SPI is the initiator SPI.
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, initiator: false, response: true)), now: t0)
        #expect(s.received.count == 1)
        #expect(factory.made.count == 1)
        #expect(core.counters.unknownSPI == 0)
    }

    @Test func newSARequestFromConfiguredPeerCreatesOneResponderSession() throws {
        let (core, factory, _) = makeCore(initiator: false)
        factory.responderScript = { s, d in
            s.transmit.append(IKEDatagram(bytes: ikeMessage(spiI: 0xAAAA, spiR: s.spi, initiator: false, response: true),
                                          source: d.destination, destination: d.source))
        }
        core.start(now: t0)
        #expect(factory.made.isEmpty)
        let request = ikeMessage(spiI: 0xAAAA, spiR: 0, initiator: true, response: false)
        core.receive(fromB(request), now: t0)
        // A retransmission of the same request (responder SPI still 0) reaches the same session.
        core.receive(fromB(request), now: t0)
        #expect(factory.made.count == 1)
        let s = try #require(factory.made.first)
        #expect(s.received.count == 2)
        #expect(!s.initiator)
        // IKE_AUTH to our (responder) SPI, on 4500.
        core.receive(fromB(ikeMessage(spiI: 0xAAAA, spiR: s.spi, exchange: 35, initiator: true, response: false, messageID: 1), port: 4500), now: t0)
        #expect(s.received.count == 3)
        #expect(core.takeOutgoing().count == 3)
    }

    @Test func unknownPeerAndUnknownSPIAreDroppedAndCounted() {
        let capture = LogCapture()
        let (core, factory, _) = makeCore(initiator: false, capture: capture)
        core.start(now: t0)
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: 1, spiR: 0, initiator: true, response: false),
                                 source: IKEEndpoint(address: stranger, port: 500), destination: IKEEndpoint(address: gwA, port: 500)),
                     now: t0)
        core.receive(fromB(ikeMessage(spiI: 7, spiR: 9, exchange: 37, initiator: true, response: false)), now: t0)
        core.receive(fromB([1, 2, 3]), now: t0)
        #expect(factory.made.isEmpty)
        #expect(core.counters.unknownPeer == 1)
        #expect(core.counters.unknownSPI == 1)
        #expect(core.counters.malformed == 1)
        #expect(capture.text.contains("reason=unknown-peer"))
        #expect(capture.text.contains("from=203.0.113.9:500"))
    }

    @Test func knownSPIFromAnotherAddressIsRefused() throws {
        let (core, factory, _) = makeCore(initiator: true)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-c"), addresses: [stranger], local: IKEEndpoint(address: gwA, port: 500),
                                  remote: IKEEndpoint(address: stranger, port: 500), initiator: false))
        core.start(now: t0)
        let s = try #require(factory.made.first)
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: s.spi, spiR: 5, initiator: false, response: true),
                                 source: IKEEndpoint(address: stranger, port: 500), destination: IKEEndpoint(address: gwA, port: 500)),
                     now: t0)
        #expect(s.received.isEmpty)
        #expect(core.counters.unknownSPI == 1)
    }

    @Test func portClassificationCountsESPAndKeepalives() {
        let (core, _, _) = makeCore(initiator: false)
        let ports = IKEPorts.standard
        let src = IKEEndpoint(address: gwB, port: 4500), dst = IKEEndpoint(address: gwA, port: 4500)
        core.handle(IKESocketSet.classify(.init(bytes: [0xC1, 0, 0, 1, 0, 0, 0, 1], source: src, destination: dst), ports: ports), now: t0)
        core.handle(IKESocketSet.classify(.init(bytes: [0xFF], source: src, destination: dst), ports: ports), now: t0)
        core.handle(IKESocketSet.classify(.init(bytes: [0, 0], source: src, destination: dst), ports: ports), now: t0)
        #expect(core.counters.espOnNATTPort == 1)
        #expect(core.counters.natKeepalives == 1)
        #expect(core.counters.malformed == 1)
        #expect(core.counters.datagramsReceived == 3)
    }

    @Test func deadlinesFireOnlyWhenDue() throws {
        let (core, factory, _) = makeCore(initiator: true)
        core.start(now: t0)
        let s = try #require(factory.made.first)
        #expect(core.nextDeadline == t0.adding(seconds: 4))
        core.fireTimers(now: t0.adding(seconds: 3.9))
        #expect(s.timeouts.isEmpty)
        core.fireTimers(now: t0.adding(seconds: 4))
        #expect(s.timeouts == [t0.adding(seconds: 4)])
        #expect(core.nextDeadline == nil)
    }

    @Test func childSAGoesToDataplaneAndKeysNeverReachTheLog() throws {
        let capture = LogCapture()
        let (core, factory, dp) = makeCore(initiator: true, capture: capture)
        core.start(now: t0)
        let s = try #require(factory.made.first)
        let key: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF, 0x42, 0x42, 0x42, 0x42]
        let sa = ChildSAParameters(inboundSPI: 0xC0FFEE01, outboundSPI: 0xC0FFEE02, encryption: .aesGCM16(keyBits: 128),
                                   integrity: nil, extendedSequenceNumbers: false,
                                   inboundEncryptionKey: SecureBytes(key + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
                                   outboundEncryptionKey: SecureBytes(key + [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]),
                                   inboundIntegrityKey: nil, outboundIntegrityKey: nil,
                                   local: IKEEndpoint(address: gwA, port: 4500), peer: IKEEndpoint(address: gwB, port: 4500),
                                   udpEncapsulation: true, lifetimeSeconds: 3600)
        s.events = [.ikeSAEstablished(initiatorSPI: IKESPI(s.spi), responderSPI: 0xBEEF, proposal: "aes128gcm16-prfsha256-x25519",
                                      peerIdentity: "gw-b.example.net", local: IKEEndpoint(address: gwA, port: 4500),
                                      peer: IKEEndpoint(address: gwB, port: 4500)),
                    .childSAReady(sa)]
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, exchange: 35, initiator: false, response: true, messageID: 1)), now: t0)
        #expect(dp.installed == [0xC0FFEE01])
        let log = capture.text
        #expect(log.contains("spi=\"c0ffee01_i c0ffee02_o\""))
        #expect(log.contains("spi=\"0000000000001000_i 000000000000beef_r\""))
        #expect(log.contains("enc=aes128gcm16"))
        #expect(!log.lowercased().contains("deadbeef"))
        #expect(!log.contains("222, 173"))
    }

    @Test func failedInitiatorRetriesAfterThePause() throws {
        let capture = LogCapture()
        let (core, factory, _) = makeCore(initiator: true, capture: capture)
        core.start(now: t0)
        let first = try #require(factory.made.first)
        first.events = [.ikeSAFailed(IKEFailure(.noProposalChosen, "peer chose none of our proposals", notify: 14, reportedByPeer: true))]
        first.nextDeadline = nil
        core.receive(fromB(ikeMessage(spiI: first.spi, spiR: 0, initiator: false, response: true)), now: t0)
        #expect(capture.text.contains("notify=NO_PROPOSAL_CHOSEN"))
        #expect(capture.text.contains("reason=no-proposal-chosen"))
        #expect(capture.text.contains("by=peer"))
        #expect(core.nextDeadline == t0.adding(seconds: 10))
        core.fireTimers(now: t0.adding(seconds: 9))
        #expect(factory.made.count == 1)
        core.fireTimers(now: t0.adding(seconds: 10))
        #expect(factory.made.count == 2)
        #expect(core.liveSessionCount == 1)
    }
}
