import Foundation
@testable import Daemon
import IKEv2
import NetTypes
import PKI
import Synchronization
import Testing
import Tools
import Topology
import TestSupport

/// Expiry you can see coming: warnings at 30, 7 and 1 days and at expiry, once each; every
/// certificate and CRL in use as a metric; `status` with each tunnel's nearest expiry and a
/// reason that names an expired certificate. Fake wall clock, throwaway PKI.
struct CredentialExpiryTests {
    static let day = TestPKIFiles.day
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    /// A wall clock the test sets.
    final class FakeWall: WallClock, Sendable {
        private let storage: Mutex<Int64>
        init(_ now: Int64) { storage = Mutex(now) }
        var now: Int64 {
            get { storage.withLock { $0 } }
            set { storage.withLock { $0 = newValue } }
        }
        func epochSeconds() -> Int64 { now }
    }

    @Test func eachThresholdWarnsOnceAndTheNearestOnlyWhenSeveralArePassed() {
        let expires: Int64 = 10_000_000
        let item = ExpiringItem(role: .own, subject: "CN=hub", serial: "01", expires: expires)
        var w = ExpiryWarnings()
        func at(_ daysLeft: Double) -> [Int] {
            w.check([item], now: expires - Int64(daysLeft * Double(Self.day))).map(\.thresholdDays)
        }
        #expect(at(40) == [])
        #expect(at(29.9) == [30])
        #expect(at(29) == [], "warned twice for 30 days")
        #expect(at(5) == [7])
        #expect(at(0.5) == [1])
        #expect(at(0.2) == [])
        #expect(at(-0.1) == [0])
        #expect(at(-3) == [])

        // Started 5 days before: one warning (7), not 30 and 7.
        var fresh = ExpiryWarnings()
        let started = fresh.check([item], now: expires - 5 * Self.day).map(\.thresholdDays)
        #expect(started == [7])
        // A renewed certificate (new serial) is a new item: its warnings start afresh.
        let renewed = ExpiringItem(role: .own, subject: "CN=hub", serial: "02", expires: expires + 3 * Self.day)
        let afresh = fresh.check([renewed], now: expires - 5 * Self.day).map(\.thresholdDays)
        #expect(afresh == [30])
    }

    @Test func warningMessagesSayWhatAndWhen() {
        let crl = ExpiringItem(role: .crl, subject: "CN=Root", serial: "4", expires: 1_780_000_000)
        var w = ExpiryWarnings()
        let m = w.check([crl], now: 1_780_000_000 - 6 * Self.day - 3600).first?.message
        #expect(m == "CRL of 'CN=Root' (next update) expires in 6d1h (less than 7 days) at 2026-05-28 20:26:40 UTC")
        let peer = ExpiringItem(role: .peer, subject: "CN=a", serial: "0A", peer: "a", expires: 100)
        let expired = w.check([peer], now: 200).first?.message
        #expect(expired == "peer a's certificate 'CN=a' has expired")
    }

    func monitor(_ pki: TestPKIFiles, wall: FakeWall, crl: Bool = true) throws -> (CredentialExpiryMonitor, LogCapture) {
        try pki.writeNode(try pki.gateway("hub.example.net", notAfter: TestPKIFiles.now + 20 * Self.day),
                          crl: crl ? try pki.crl(nextUpdate: TestPKIFiles.now + 3 * Self.day) : nil)
        let credentials = try NodeCredentials.load(plan: try pki.plan(crl: crl))
        let capture = LogCapture()
        let m = CredentialExpiryMonitor(credentials: { credentials }, peers: PeerCertificateBook(), wall: wall, logger: capture.logger())
        return (m, capture)
    }

    @Test func theMonitorWarnsInTheLogAndAsEventsAtStartAndThenHourly() throws {
        let pki = try TestPKIFiles()
        let wall = FakeWall(TestPKIFiles.now)
        let (m, capture) = try monitor(pki, wall: wall)
        var warnings: [ExpiryWarnings.Warning] = []
        m.onWarning = { warnings.append($0) }
        m.check(now: t0)
        // Our certificate (20 days: the 30-day warning), the CRL (3 days: 7); the CA has 10 years.
        #expect(Set(warnings.map { "\($0.item.role.rawValue) \($0.thresholdDays)" }) == ["own 30", "crl 7"])
        #expect(capture.text.contains("our certificate 'CN=hub.example.net,O=Viaduct' expires in 20d0h (less than 30 days)"))
        #expect(m.nextDeadline == t0.adding(seconds: 3600))
        // Nothing new before the next threshold; a check before the deadline does nothing.
        m.handle([], now: t0.adding(seconds: 10))
        #expect(warnings.count == 2)
        wall.now += 2 * Self.day + 12 * 3600  // CRL: 12 hours left
        m.handle([], now: t0.adding(seconds: 3600))
        #expect(warnings.count == 3)
        #expect(warnings.last?.item.role == .crl && warnings.last?.thresholdDays == 1)
    }

    @Test func metricsCarryEveryCertificateAndCRLAndDropReplacedOnes() throws {
        let pki = try TestPKIFiles()
        let wall = FakeWall(TestPKIFiles.now)
        let (m, _) = try monitor(pki, wall: wall)
        let plan = try pki.plan(crl: true)
        let metrics = DaemonMetrics(plan: plan, peers: plan.tunnels.map { IKETunnelPeer(tunnel: $0) }, dataplane: "userspace", startedAt: t0)
        m.peers?.record(TunnelID(peer: "a"), .init(subject: "CN=a.example.net,O=Viaduct", serial: "0A", notAfter: 1_790_000_000,
                                                   refused: nil, refusal: nil))
        metrics.update(expiring: m.items())
        var text = String(decoding: metrics.render(now: t0, daemon: IKEEndpointCounters()) { _ in nil }, as: UTF8.self)
        let own = try #require(m.items().first { $0.role == .own })
        #expect(text.contains(#"viaduct_certificate_not_after_timestamp_seconds{role="own",peer="",subject="CN=hub.example.net,O=Viaduct",serial="\#(own.serial)"} \#(own.expires)"#))
        #expect(text.contains(#"viaduct_certificate_not_after_timestamp_seconds{role="ca",peer="",subject="CN=Viaduct Test Root,O=Viaduct""#))
        #expect(text.contains(#"viaduct_certificate_not_after_timestamp_seconds{role="peer",peer="a",subject="CN=a.example.net,O=Viaduct",serial="0A"} 1790000000"#))
        #expect(text.contains(#"viaduct_crl_next_update_timestamp_seconds{issuer="CN=Viaduct Test Root,O=Viaduct",number="1"} \#(TestPKIFiles.now + 3 * Self.day)"#))
        // The peer's certificate is replaced: the old series goes.
        m.peers?.record(TunnelID(peer: "a"), .init(subject: "CN=a.example.net,O=Viaduct", serial: "0B", notAfter: 1_800_000_000,
                                                   refused: nil, refusal: nil))
        metrics.update(expiring: m.items())
        text = String(decoding: metrics.render(now: t0, daemon: IKEEndpointCounters()) { _ in nil }, as: UTF8.self)
        #expect(!text.contains(#"serial="0A""#))
        #expect(text.contains(#"serial="0B"} 1800000000"#))
    }

    func status(_ plan: NodePlan) -> NodeStatus {
        let peers = plan.tunnels.map { IKETunnelPeer(tunnel: $0) }
        return TunnelStatusBook(plan: plan, peers: peers, dataplane: "userspace", startedAt: t0)
            .snapshot(now: t0, daemon: IKEEndpointCounters()) { _ in nil }
    }

    @Test func statusShowsTheNearestExpiryPerTunnelAndWhyAnExpiredCertificateStopsIt() throws {
        let pki = try TestPKIFiles()
        let wall = FakeWall(TestPKIFiles.now)
        let (m, _) = try monitor(pki, wall: wall)
        let plan = try pki.plan(crl: true)
        // Peer a presented a certificate expiring tomorrow; b's was refused as expired.
        m.peers?.record(TunnelID(peer: "a"), .init(subject: "CN=a.example.net,O=Viaduct", serial: "0A",
                                                   notAfter: TestPKIFiles.now + Self.day, refused: nil, refusal: nil))
        m.peers?.record(TunnelID(peer: "b"), .init(subject: "CN=b.example.net,O=Viaduct", serial: "0B",
                                                   notAfter: TestPKIFiles.now - Self.day, refused: .certificateExpired,
                                                   refusal: "certificate 'CN=b.example.net,O=Viaduct' expired"))
        var s = status(plan)
        m.decorate(&s)
        let a = try #require(s.tunnels.first { $0.peer == "a" }), b = try #require(s.tunnels.first { $0.peer == "b" })
        #expect(a.nearestExpiry?.role == "peer" && a.nearestExpiry?.inSeconds == Self.day)
        #expect(b.nearestExpiry?.inSeconds == -Self.day)
        #expect(b.reason?.hasPrefix("peer b's certificate 'CN=b.example.net,O=Viaduct' expired at ") == true)
        let text = StatusText.render(s)
        #expect(text.contains("  expires: peer a's certificate 'CN=a.example.net,O=Viaduct' at 2026-05-29 20:26:40 UTC (in 1d0h)  !"))
        #expect(text.contains("  why: peer b's certificate 'CN=b.example.net,O=Viaduct' expired at 2026-05-27 20:26:40 UTC: we refuse it"))
        let json = String(decoding: try JSONEncoder().encode(a), as: UTF8.self)
        #expect(json.contains(#""nearestExpiry":{"#))

        // Our own certificate expired: every tunnel says so.
        wall.now = TestPKIFiles.now + 21 * Self.day
        s = status(plan)
        m.decorate(&s)
        for t in s.tunnels {
            #expect(t.reason?.hasPrefix("our certificate 'CN=hub.example.net,O=Viaduct' expired at ") == true, "\(t.reason ?? "nil")")
        }
    }
}
