@testable import Daemon
import DataplaneContract
import IKEv2
import Testing
import NetTypes

/// RFC 7296 §2.8.3 as the daemon shows it: status, events and metrics of a reauthentication
/// (the endpoint's side is in IKEv2Tests' EndpointReauthenticationTests).
struct DaemonReauthenticationTests {
    @Test("Status and events: ike-reauthenticating when the time comes, ike-reauthenticated with the new SPIs; the metric counts reauthentications")
    func statusAndMetrics() throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let book = ControlStatusTests.book(plan)
        let local = IKEEndpoint(address: [192, 0, 2, 1], port: 4500), remote = IKEEndpoint(address: [198, 51, 100, 1], port: 4500)
        book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAEstablished(initiatorSPI: 0x1122, responderSPI: 0x3344, proposal: "p",
                                                        peerIdentity: "b.example", local: local, peer: remote),
                    now: .seconds(1), epochSeconds: 1_000)
        let due = book.record(tunnel: TunnelID(peer: "b"), event: .reauthenticationDue, now: .seconds(500), epochSeconds: 1_500)
        #expect(due.kind == .ikeReauthenticating && due.spis == "0000000000001122_i 0000000000003344_r")
        book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAEstablished(initiatorSPI: 0x5566, responderSPI: 0x7788, proposal: "p",
                                                        peerIdentity: "b.example", local: local, peer: remote),
                    now: .seconds(501), epochSeconds: 1_501)
        let done = book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAReauthenticated(initiatorSPI: 0x5566, responderSPI: 0x7788,
                                                                      oldInitiatorSPI: 0x1122, oldResponderSPI: 0x3344),
                               now: .seconds(501), epochSeconds: 1_501)
        #expect(done.kind == .ikeReauthenticated && done.spis == "0000000000005566_i 0000000000007788_r")
        #expect(done.detail.contains("0000000000001122_i 0000000000003344_r"))
        let b = try #require(book.snapshot(now: .seconds(510), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        #expect(b.ike?.spis == "0000000000005566_i 0000000000007788_r")

        let (_, m, _, _) = try MetricsTests.setUp()
        let name = "viaduct_ike_sa_reauthentications_total{peer=\"b\"}"
        #expect(MetricsTests.value(MetricsTests.render(m, at: 1), name) == 0)
        m.record(tunnel: TunnelID(peer: "b"), event: .ikeSAReauthenticated(initiatorSPI: 5, responderSPI: 6, oldInitiatorSPI: 1, oldResponderSPI: 2),
                 now: .seconds(2))
        #expect(MetricsTests.value(MetricsTests.render(m, at: 3), name) == 1)
        #expect(MetricsTests.value(MetricsTests.render(m, at: 3), "viaduct_ike_sa_rekeys_total{peer=\"b\"}") == 0)
    }
}
