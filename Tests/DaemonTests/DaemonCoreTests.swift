import CryptoCore
@testable import Daemon
import DataplaneContract
import IKEv2
import NetTypes
import TestSupport
import Testing

/// `EndpointDriver`: the daemon's side of the endpoint. It classifies datagrams for it and
/// performs what it returns, in order: data-plane calls, log lines (its own for data-plane
/// failures), events and initiations for status, metrics and systemd. What the endpoint decides
/// is tested at the endpoint (IKEv2Tests/Endpoint).
struct DaemonCoreTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)
    static let local = IKEEndpoint(address: gwA, port: 500), remote = IKEEndpoint(address: gwB, port: 500)

    func makeCore(initiator: Bool, capture: LogCapture = LogCapture(), dataplane: RecordingDataplane = RecordingDataplane())
        -> (EndpointDriver, FakeFactory) {
        let factory = FakeFactory()
        let core = EndpointDriver(factory: factory, dataplane: dataplane, logger: capture.logger(), reinitiateDelaySeconds: 10)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: Self.local, remote: Self.remote,
                                     initiator: initiator))
        return (core, factory)
    }

    @Test func portClassificationCountsESPAndKeepalives() {
        let (core, _) = makeCore(initiator: false)
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

    @Test("The endpoint's actions are performed in the order it returned them: data-plane calls, events, initiations, log lines")
    func actionsArePerformedInOrder() throws {
        let dp = RecordingDataplane()
        let capture = LogCapture()
        let (core, factory) = makeCore(initiator: true, capture: capture, dataplane: dp)
        var seen: [String] = []
        core.onInitiate = { peer, now in seen.append("initiated \(peer) \(now == self.t0)") }
        core.onEvent = { peer, event in
            switch event {
            case .childSAReady(let sa): seen.append("ready \(String(sa.inboundSPI.rawValue, radix: 16)) \(peer)")
            case .childSADeleted(let i, _): seen.append("deleted \(String(i.rawValue, radix: 16)) \(peer)")
            default: seen.append("event \(peer)")
            }
        }
        core.start(now: t0)
        #expect(seen == ["initiated gw-b true"])
        let s = try #require(factory.made.first)
        let moved = IKEEndpoint(address: gwB, port: 47000)
        s.events = [.childSAReady(scriptedChildSA(0xC1)), .childSAReady(scriptedChildSA(0xC3, activate: false)),
                    .childSAOutboundActivated(inboundSPI: 0xC3, outboundSPI: 0xC4),
                    .peerEndpointChanged(previous: IKEEndpoint(address: gwB, port: 4500), peer: moved, inboundSPIs: [0xC1, 0xC3]),
                    .childSADeleted(inboundSPI: 0xC1, outboundSPI: 0xC2)]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: s.spi, spiR: 0xBEEF, initiator: false, response: true), source: Self.remote,
                                 destination: Self.local), now: t0)
        #expect(dp.calls == ["install c1 gw-b", "install c3 idle gw-b", "activate c3 gw-b",
                             "follow c1 192.0.2.2:47000 gw-b", "follow c3 192.0.2.2:47000 gw-b", "delete c1 gw-b"])
        #expect(seen == ["initiated gw-b true", "ready c1 gw-b", "ready c3 gw-b", "event gw-b", "event gw-b", "deleted c1 gw-b"])
        // The endpoint's log records become lines, in order.
        let lines = capture.lines.filter { $0.contains("child SA established") || $0.contains("peer address changed") }
        #expect(lines.count == 3 && lines[2].hasPrefix("notice peer address changed"), "\(lines)")
    }

    @Test("A data-plane call that fails is logged with the peer, the SPI and the reason, and the next action is still performed")
    func dataplaneFailuresAreLogged() throws {
        let dp = RecordingDataplane()
        dp.refusing = DataplaneError(.system, "no such device")
        let capture = LogCapture()
        let (core, factory) = makeCore(initiator: true, capture: capture, dataplane: dp)
        core.start(now: t0)
        let s = try #require(factory.made.first)
        s.events = [.childSAReady(scriptedChildSA(0xC1)), .childSAOutboundActivated(inboundSPI: 0xC1, outboundSPI: 0xC2),
                    .peerEndpointChanged(previous: IKEEndpoint(address: gwB, port: 4500), peer: IKEEndpoint(address: gwB, port: 47000),
                                         inboundSPIs: [0xC1]),
                    .childSADeleted(inboundSPI: 0xC1, outboundSPI: 0xC2)]
        core.receive(IKEDatagram(bytes: ikeMessage(spiI: s.spi, spiR: 0xBEEF, initiator: false, response: true), source: Self.remote,
                                 destination: Self.local), now: t0)
        #expect(dp.calls == ["install c1 gw-b", "activate c1 gw-b", "follow c1 192.0.2.2:47000 gw-b", "delete c1 gw-b"])
        let errors = capture.lines.filter { $0.hasPrefix("error ") }
        #expect(errors == [
            "error data plane refused the child SA dataplane=recording peer=gw-b reason=\"no such device\" spi=000000c1_i\n",
            "error data plane could not switch to the new child SA dataplane=recording peer=gw-b reason=\"no such device\" spi=000000c1_i\n",
            "error data plane could not follow the peer's new address dataplane=recording peer=gw-b reason=\"no such device\" spi=000000c1_i\n",
            "error data plane could not delete the child SA dataplane=recording peer=gw-b reason=\"no such device\" spi=000000c1_i\n",
        ], "\(errors)")
    }
}
