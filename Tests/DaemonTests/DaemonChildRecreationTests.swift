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
                                      : "waiting for b (198.51.100.1) to re-establish the tunnel"), "\(r)")
    }
}
