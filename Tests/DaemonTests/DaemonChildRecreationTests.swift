@testable import Daemon
import IKEv2
import Testing
import Topology
import NetTypes

/// A tunnel whose last Child SA was deleted while its IKE SA lives on, as status shows it (the
/// endpoint's re-establishment is in IKEv2Tests' EndpointChildRecreationTests).
struct DaemonChildRecreationTests {
    @Test("Status of an IKE SA without a Child SA says who re-establishes the tunnel: this end (initiator) or the peer", arguments: [true, false])
    func statusSaysWhoRebuilds(initiator: Bool) throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let peers = plan.tunnels.map { t -> IKETunnelPeer in
            var p = IKETunnelPeer(tunnel: t, ports: .standard)
            p.initiator = initiator
            return p
        }
        let book = TunnelStatusBook(plan: plan, peers: peers, dataplane: "test", startedAt: .seconds(100))
        let local = IKEEndpoint(address: [192, 0, 2, 1], port: 500), remote = IKEEndpoint(address: [198, 51, 100, 1], port: 500)
        book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAEstablished(initiatorSPI: 1, responderSPI: 2, proposal: "p", peerIdentity: "b.example",
                                                        local: local, peer: remote), now: .seconds(101), epochSeconds: 1)
        book.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(ControlStatusTests.childSA(0x5000)), now: .seconds(101), epochSeconds: 1)
        func reason() throws -> String? {
            try #require(book.snapshot(now: .seconds(110), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" }).reason
        }
        #expect(try reason() == nil)
        book.record(tunnel: TunnelID(peer: "b"), event: .childSADeleted(inboundSPI: 0x5000, outboundSPI: 0x5001), now: .seconds(105), epochSeconds: 5)
        let r = try #require(try reason())
        #expect(r.hasPrefix("the IKE SA is up but no Child SA is installed: no traffic flows; "))
        #expect(r.hasSuffix(initiator ? "re-establishing the tunnel after the retry delay"
                                      : "waiting for b (198.51.100.1) to create a Child SA again; rebuilding the tunnel after twice the retry delay otherwise"), "\(r)")
    }

    @Test("A refused new Child SA of the peer shows in status (reason, notify, when) and as a peer-child-refused event; the tunnel stays up")
    func refusalIsShown() throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let peers = plan.tunnels.map { IKETunnelPeer(tunnel: $0, ports: .standard) }
        let book = TunnelStatusBook(plan: plan, peers: peers, dataplane: "test", startedAt: .seconds(100))
        let local = IKEEndpoint(address: [192, 0, 2, 1], port: 500), remote = IKEEndpoint(address: [198, 51, 100, 1], port: 500)
        let b = TunnelID(peer: "b")
        book.record(tunnel: b, event: .ikeSAEstablished(initiatorSPI: 1, responderSPI: 2, proposal: "p", peerIdentity: "b.example",
                                                        local: local, peer: remote), now: .seconds(101), epochSeconds: 1)
        book.record(tunnel: b, event: .childSAReady(ControlStatusTests.childSA(0x5000)), now: .seconds(101), epochSeconds: 1)
        func status() throws -> TunnelStatus {
            try #require(book.snapshot(now: .seconds(110), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        }
        #expect(try status().refusedChildSA == nil)
        let event = book.record(tunnel: b, event: .childSARefused(reason: "one is installed", notify: IKENotifyType.noAdditionalSAs.rawValue),
                                now: .seconds(104), epochSeconds: 4)
        #expect(event.kind == .peerChildRefused && event.detail == "refused the peer's new Child SA with NO_ADDITIONAL_SAS: one is installed")
        let t = try status()
        #expect(t.refusedChildSA == TunnelStatus.Refusal(reason: "one is installed", notify: "NO_ADDITIONAL_SAS", secondsAgo: 6))
        #expect(t.carriesTraffic && t.reason == nil)
    }
}
