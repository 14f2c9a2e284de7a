@testable import Daemon
import IKEv2
import Testing
import Tools
import Topology

/// What `viaduct graph --status` draws from a daemon's status.
@Suite("status for the graph")
struct GraphReportTests {
    static func tunnel(_ peer: String, _ state: TunnelStatus.State, children: Int = 0, reason: String? = nil,
                       lastError: String? = nil) -> TunnelStatus {
        let child = TunnelStatus.ChildSA(spiIn: "c1", spiOut: "c2", encryption: "AES_GCM_16-128", integrity: nil, udpEncapsulation: false,
                                         uptimeSeconds: 1, rekeyInSeconds: 1, expiresInSeconds: 1, packetsIn: 0, bytesIn: 0,
                                         packetsOut: 0, bytesOut: 0)
        return TunnelStatus(peer: peer, interface: "vd-\(peer)", role: "initiator", localAddress: "192.0.2.1", peerAddress: "192.0.2.2",
                            state: state, reason: reason,
                            lastError: lastError.map { .init(code: "timeout", message: $0, notify: nil, by: "local", secondsAgo: 3) },
                            ike: nil, childSAs: Array(repeating: child, count: children))
    }

    @Test("established needs a Child SA; the reason is the daemon's, or its last failure")
    func states() {
        let status = NodeStatus(node: "dc1", dataplane: "userspace", uptimeSeconds: 10, tunnels: [
            Self.tunnel("dc2", .established, children: 1),
            Self.tunnel("dc3", .established, reason: "waiting for the Child SA"),
            Self.tunnel("dc4", .established),
            Self.tunnel("dc5", .connecting, reason: "sent IKE_SA_INIT, no answer yet"),
            Self.tunnel("dc6", .down, lastError: "no answer from the peer"),
        ], counters: IKEEndpointCounters())
        #expect(status.graphReports == [
            .init(node: "dc1", peer: "dc2", state: .established),
            .init(node: "dc1", peer: "dc3", state: .connecting, reason: "waiting for the Child SA"),
            .init(node: "dc1", peer: "dc4", state: .connecting, reason: "IKE SA up, no Child SA"),
            .init(node: "dc1", peer: "dc5", state: .connecting, reason: "sent IKE_SA_INIT, no answer yet"),
            .init(node: "dc1", peer: "dc6", state: .down, reason: "no answer from the peer"),
        ])
    }
}
