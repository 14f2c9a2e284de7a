import CryptoCore
@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// The endpoint with scripted sessions and a fake clock: routing by (SPI, peer), responder
/// sessions on demand, deadlines, and the actions it returns (data plane, log records).
struct EndpointRoutingTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    func makeCore(initiator: Bool) -> (EndpointProbe, FakeFactory) {
        let factory = FakeFactory()
        return (EndpointProbe.withPeerB(factory, initiator: initiator), factory)
    }

    func fromB(_ bytes: [UInt8], port: UInt16 = 500) -> IKEDatagram {
        IKEDatagram(bytes: bytes, source: IKEEndpoint(address: gwB, port: port), destination: IKEEndpoint(address: gwA, port: port))
    }

    @Test func initiatorSendsAndResponseRoutesByLearnedSPI() throws {
        let (core, factory) = makeCore(initiator: true)
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
        let (core, factory) = makeCore(initiator: false)
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
        let (core, factory) = makeCore(initiator: false)
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
        #expect(core.logs.contains { $0.metadata["reason"] == "unknown-peer" && $0.metadata["from"] == "203.0.113.9:500" })
    }

    @Test func knownSPIFromAnotherAddressIsRefused() throws {
        let (core, factory) = makeCore(initiator: true)
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

    @Test func deadlinesFireOnlyWhenDue() throws {
        let (core, factory) = makeCore(initiator: true)
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
        let (core, factory) = makeCore(initiator: true)
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
        #expect(core.installed == [0xC0FFEE01])
        #expect(core.logged("spi", "c0ffee01_i c0ffee02_o"))
        #expect(core.logged("spi", "0000000000001000_i 000000000000beef_r"))
        #expect(core.logged("enc", "aes128gcm16"))
        let log = "\(core.logs)"
        #expect(log.contains("c0ffee01"))
        #expect(!log.lowercased().contains("deadbeef"))
        #expect(!log.contains("222, 173"))
    }

    @Test func failedInitiatorRetriesAfterThePause() throws {
        let (core, factory) = makeCore(initiator: true)
        core.start(now: t0)
        let first = try #require(factory.made.first)
        first.events = [.ikeSAFailed(IKEFailure(.noProposalChosen, "peer chose none of our proposals", notify: 14, reportedByPeer: true))]
        first.nextDeadline = nil
        core.receive(fromB(ikeMessage(spiI: first.spi, spiR: 0, initiator: false, response: true)), now: t0)
        let failed = try #require(core.logs.first { $0.message == "IKE SA failed" })
        #expect(failed.metadata["notify"] == "NO_PROPOSAL_CHOSEN")
        #expect(failed.metadata["reason"] == "no-proposal-chosen")
        #expect(failed.metadata["by"] == "peer")
        #expect(core.nextDeadline == t0.adding(seconds: 10))
        core.fireTimers(now: t0.adding(seconds: 9))
        #expect(factory.made.count == 1)
        core.fireTimers(now: t0.adding(seconds: 10))
        #expect(factory.made.count == 2)
        #expect(core.liveSessionCount == 1)
    }
}
