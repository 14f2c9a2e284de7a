@testable import Daemon
import IKEv2
import Testing
import NetTypes

/// An IKE SA rekey (RFC 7296 §2.18) as status and events show it (the endpoint's routing on the
/// new SPIs is in IKEv2Tests' EndpointIKERekeyTests).
struct DaemonIKERekeyTests {
    @Test("ike-rekeyed: the event names the new SPIs and the old ones; status shows the new SPIs and the same Child SA")
    func statusAfterIKERekey() throws {
        let (_, _, plan) = try ControlStatusTests.load()
        let book = ControlStatusTests.book(plan)
        let local = IKEEndpoint(address: [192, 0, 2, 1], port: 4500), remote = IKEEndpoint(address: [198, 51, 100, 1], port: 4500)
        book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAEstablished(initiatorSPI: 0x1122, responderSPI: 0x3344, proposal: "aes256gcm16-prfsha384-ecp384",
                                                        peerIdentity: "b.example", local: local, peer: remote),
                    now: .seconds(120), epochSeconds: 1_000)
        book.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(ControlStatusTests.childSA(0xC1A2B3C4)), now: .seconds(121), epochSeconds: 1_001)
        let ev = book.record(tunnel: TunnelID(peer: "b"), event: .ikeSARekeyed(initiatorSPI: 0x5566, responderSPI: 0x7788, proposal: "aes256gcm16-prfsha384-ecp384",
                                                             oldInitiatorSPI: 0x1122, oldResponderSPI: 0x3344),
                             now: .seconds(200), epochSeconds: 1_080)
        #expect(ev.kind == .ikeRekeyed && ev.spis == "0000000000005566_i 0000000000007788_r")
        #expect(ev.detail.contains("0000000000001122_i 0000000000003344_r"))
        let b = try #require(book.snapshot(now: .seconds(210), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        #expect(b.ike?.spis == "0000000000005566_i 0000000000007788_r" && b.ike?.uptimeSeconds == 10)
        #expect(b.childSAs.map(\.spiIn) == ["c1a2b3c4"])
    }
}
