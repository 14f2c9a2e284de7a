import ViaductCrypto
import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import TestSupport
import Testing
import Tools

/// The admission gate as status shows it (the endpoint's admission is in IKEv2Tests'
/// EndpointAdmissionTests).
struct DaemonAdmissionTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    func makeCore(_ policy: IKEAdmissionPolicy, capture: LogCapture = LogCapture()) throws -> (EndpointDriver, FakeFactory) {
        let factory = FakeFactory()
        let gate = IKEAdmissionGate(policy: policy, prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256),
                                    random: SeededRandomSource(seed: 42))
        let core = EndpointDriver(factory: factory, dataplane: RecordingDataplane(), logger: capture.logger(), admission: gate)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: IKEEndpoint(address: gwA, port: 500),
                                  remote: IKEEndpoint(address: gwB, port: 500), initiator: false))
        core.start(now: t0)
        return (core, factory)
    }

    @Test func statusShowsTheGate() throws {
        let (core, _) = try makeCore(IKEAdmissionPolicy(cookieThreshold: 1, unverifiedRate: IKERate(perSecond: 0, burst: 1000),
                                                        cookieReplyRate: IKERate(perSecond: 0, burst: 2)))
        for spi in UInt64(1)...5 { core.receive(try ikeSAInitRequest(spi: spi), now: t0) }
        let status = NodeStatus(node: "gw-a", dataplane: "none", uptimeSeconds: 1, tunnels: [], counters: core.counters)
        let a = try #require(status.admission)
        #expect(a.admitted == 1 && a.cookiesSent == 2 && a.dropped == ["cookie-rate-limited": 2] && a.halfOpenPeak == 1)
        #expect(status.datagramsDropped == 2)
        #expect(StatusText.render(status).contains("IKE_SA_INIT: 1 admitted, 2 cookies sent, 2 dropped (cookie-rate-limited 2), half-open 1 (peak 1)"))
    }
}
