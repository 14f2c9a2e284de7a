import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import TestSupport
import Testing

/// Issue 18's soak: `viaduct status` showed `rekey in` as lifetime − rekey-margin − uptime,
/// while the engine rekeys a random part of rekey-jitter earlier (RFC 7296 §2.8, §2.18). Status
/// must count down to the instant the engine scheduled, as the endpoint reports it.
@Suite struct RekeyDeadlineStatusTests {
    @Test func rekeyInCountsDownToTheInstantTheEngineDrewJitterIncluded() throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let book = ControlStatusTests.book(plan)
        let factory = FakeFactory()
        let core = EndpointDriver(factory: factory, dataplane: RecordingDataplane(), logger: LogCapture().logger())
        let tunnel = TunnelID(peer: "b")
        let planned = try #require(plan.tunnels.first { $0.peer == "b" })
        let peer = IKETunnelPeer(tunnel: planned, ports: .standard)
        core.onEvent = { t, event in book.record(tunnel: t, event: event, now: .seconds(130), epochSeconds: 0) }
        core.add(peer: IKETunnelPeer(tunnel: tunnel, addresses: peer.addresses, local: peer.local, remote: peer.remote, initiator: true))
        let t0 = IKEInstant(nanoseconds: 0)
        core.start(now: t0)
        let session = try #require(factory.made.first)
        session.events = [
            .ikeSAEstablished(initiatorSPI: 0x1122, responderSPI: 0x3344, proposal: "aes256gcm16-prfsha384-ecp384",
                              peerIdentity: "b.example", local: peer.local, peer: peer.remote),
            .childSAReady(ControlStatusTests.childSA(0xC1A2_B3C4)),
        ]
        session.nextDeadline = t0
        core.fireTimers(now: t0.adding(seconds: 1))

        // Up at 130 s; the engine drew 600 s of the IKE SA's jitter and 97 s of the Child SA's.
        let ikeLatest = Double(planned.ike.lifetime.seconds - planned.ike.rekeyMargin.seconds)
        let childLatest = 3600 - Double(planned.esp.rekeyMargin.seconds)
        session.rekeyDeadlines = IKERekeyDeadlines(ike: .seconds(130 + ikeLatest - 600),
                                                   children: [0xC1A2_B3C4: .seconds(130 + childLatest - 97)])
        let status = { (now: IKEInstant) in
            // As NodeControl asks: counters from the data plane, deadlines from the endpoint.
            book.snapshot(now: now, daemon: IKEEndpointCounters(), counters: { _ in nil },
                          rekeyDeadlines: { core.endpoint.rekeyDeadlines(of: $0) })
        }
        let b = try #require(status(.seconds(190)).tunnels.first { $0.peer == "b" })
        #expect(b.ike?.uptimeSeconds == 60)
        #expect(b.ike?.rekeyInSeconds == Int(ikeLatest) - 600 - 60)
        #expect(b.childSAs.map(\.rekeyInSeconds) == [Int(childLatest) - 97 - 60])

        // The IKE SA's rekey is under way (no deadline any more) and the Child SA's is past: 0.
        session.rekeyDeadlines = IKERekeyDeadlines(ike: nil, children: [0xC1A2_B3C4: .seconds(130 + childLatest - 97)])
        let later = try #require(status(.seconds(130 + childLatest)).tunnels.first { $0.peer == "b" })
        #expect(later.ike?.rekeyInSeconds == 0)
        #expect(later.childSAs.map(\.rekeyInSeconds) == [0])
    }
}
