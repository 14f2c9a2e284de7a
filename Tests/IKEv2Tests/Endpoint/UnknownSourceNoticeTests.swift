@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// IKE from an address that is no configured peer: a notice an operator sees, rate-limited per
/// source and in all, with what was held back reported; every drop counted.
struct UnknownSourceNoticeTests {
    let a: [UInt8] = [203, 0, 113, 9], b: [UInt8] = [203, 0, 113, 10]
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    @Test func oneNoticePerSourcePerInterval() {
        var n = UnknownSourceNotices()
        do { let logged = n.shouldLog(source: a, now: t0); #expect(logged) }
        do { let logged = n.shouldLog(source: a, now: t0.adding(seconds: 1)); #expect(!logged) }
        do { let logged = n.shouldLog(source: b, now: t0.adding(seconds: 1)); #expect(logged) }
        do { let logged = n.shouldLog(source: a, now: t0.adding(seconds: 59)); #expect(!logged) }
        #expect(n.suppressed == 2)
        do { let logged = n.shouldLog(source: a, now: t0.adding(seconds: 60)); #expect(logged) }
        do { let held = n.takeSuppressed(); #expect(held == 2) }
        do { let held = n.takeSuppressed(); #expect(held == 0) }
    }

    @Test func aScanFromManySourcesIsCappedPerInterval() {
        var n = UnknownSourceNotices()
        var logged = 0
        for i in 0..<1000 where n.shouldLog(source: [198, 51, 100, UInt8(i % 250), UInt8(i / 250)], now: t0.adding(seconds: Double(i) / 100)) {
            logged += 1
        }
        #expect(logged == n.perInterval)
        #expect(n.suppressed == UInt64(1000 - n.perInterval))
    }

    @Test func theSourceTableStaysBounded() {
        var n = UnknownSourceNotices(interval: 60, perInterval: 1000, maxSources: 4)
        for i in 0..<10 { _ = n.shouldLog(source: [198, 51, 100, UInt8(i)], now: t0) }
        #expect(n.suppressed == 6)
        // After the interval the old sources are forgotten and new ones get their notice.
        do { let logged = n.shouldLog(source: [198, 51, 100, 200], now: t0.adding(seconds: 61)); #expect(logged) }
    }

    @Test func theEndpointLogsANoticeWithSourceSPIAndExchange() throws {
        let core = EndpointProbe(factory: FakeFactory(), logLevel: .info)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "dc2"), addresses: [gwB], local: IKEEndpoint(address: gwA, port: 500),
                                  remote: IKEEndpoint(address: gwB, port: 500), initiator: false))
        core.start(now: t0)
        for spi in UInt64(1)...5 {
            let bytes = ikeMessage(spiI: spi, spiR: 0, initiator: true, response: false)
            core.receive(IKEDatagram(bytes: bytes, source: IKEEndpoint(address: stranger, port: 500),
                                     destination: IKEEndpoint(address: gwA, port: 500)), now: t0)
        }
        #expect(core.counters.unknownPeer == 5)
        let notices = core.logs.filter { $0.level == .notice && $0.message.hasPrefix("IKE from an address that is no configured peer") }
        #expect(notices.count == 1)
        #expect(notices.first?.metadata["from"] == "203.0.113.9:500", "\(notices)")
        #expect(notices.first?.metadata["spi"] == "0000000000000001_i", "\(notices)")
        #expect(notices.first?.metadata["exchange"] == "IKE_SA_INIT", "\(notices)")
        let bytes = ikeMessage(spiI: 9, spiR: 0, initiator: true, response: false)
        core.receive(IKEDatagram(bytes: bytes, source: IKEEndpoint(address: stranger, port: 500),
                                 destination: IKEEndpoint(address: gwA, port: 500)), now: t0.adding(seconds: 61))
        #expect(core.logs.last?.metadata["suppressed_since_last"] == "4", "\(core.logs)")
    }
}
