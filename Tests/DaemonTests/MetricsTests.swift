@testable import Daemon
import DataplaneContract
import Foundation
import Glibc
import IKEv2
import NetTypes
import Testing
import Topology

/// The Prometheus metrics: what the registry shows for tunnel events (down tunnels included),
/// the endpoint's tiny HTTP, and the endpoint over real TCP in a namespace of the test's own.
@Suite(.serialized) struct MetricsTests {
    /// The sample value of the series `series` (name plus labels exactly as exposed).
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    static func setUp() throws -> (NodePlan, DaemonMetrics, String, String) {
        let (_, _, plan) = try ControlStatusTests.load()
        let peers = plan.tunnels.map { IKETunnelPeer(tunnel: $0, ports: .standard) }
        let metrics = DaemonMetrics(plan: plan, peers: peers, dataplane: "test", startedAt: .seconds(100))
        let b = try #require(plan.tunnels.first { $0.peer == "b" }).interface.name
        let c = try #require(plan.tunnels.first { $0.peer == "c" }).interface.name
        return (plan, metrics, b, c)
    }

    static func render(_ m: DaemonMetrics, at seconds: Double, _ counters: [ESPSPI: ChildSACounters] = [:],
                       daemon: IKEEndpointCounters = IKEEndpointCounters()) -> String {
        String(decoding: m.render(now: .seconds(seconds), daemon: daemon) { counters[$0] }, as: UTF8.self)
    }

    static func traffic(_ bytesIn: UInt64, _ bytesOut: UInt64) -> ChildSACounters {
        var k = ChildSACounters()
        k.inboundBytes = bytesIn
        k.inboundPackets = bytesIn / 100
        k.outboundBytes = bytesOut
        k.outboundPackets = bytesOut / 100
        return k
    }

    @Test func everyTunnelHasAStateFromTheStartDownOnesIncluded() throws {
        let (plan, m, b, c) = try Self.setUp()
        let text = Self.render(m, at: 110)
        #expect(text.contains("# TYPE viaduct_tunnel_up gauge"))
        for t in plan.tunnels {
            #expect(Self.value(text, "viaduct_tunnel_up{peer=\"\(t.peer)\",interface=\"\(t.interface.name)\"}") == 0)
        }
        // A responder waits: down; an initiator with no answer yet: connecting.
        let bRole = try #require(plan.tunnels.first { $0.peer == "b" })
        let bState = bRole.ike.role == .initiator ? "connecting" : "down"
        #expect(Self.value(text, "viaduct_tunnel_state{peer=\"b\",interface=\"\(b)\",state=\"\(bState)\"}") == 1)
        #expect(Self.value(text, "viaduct_tunnel_state{peer=\"b\",interface=\"\(b)\",state=\"established\"}") == 0)
        #expect(Self.value(text, "viaduct_tunnel_bytes_total{peer=\"c\",interface=\"\(c)\",direction=\"in\"}") == 0)
        #expect(Self.value(text, "viaduct_daemon_uptime_seconds") == 10)
    }

    @Test func eventsDriveStateRekeysFailuresLatencyAndTraffic() throws {
        let (plan, m, b, _) = try Self.setUp()
        let up = "viaduct_tunnel_up{peer=\"b\",interface=\"\(b)\"}"
        let bytesIn = "viaduct_tunnel_bytes_total{peer=\"b\",interface=\"\(b)\",direction=\"in\"}"
        let packetsOut = "viaduct_tunnel_packets_total{peer=\"b\",interface=\"\(b)\",direction=\"out\"}"
        let endpoint = IKEEndpoint(address: [192, 0, 2, 1], port: 4500)
        let established = IKEEvent.ikeSAEstablished(initiatorSPI: 1, responderSPI: 2, proposal: "aes256gcm16-prfsha384-ecp384",
                                                    peerIdentity: "b", local: endpoint, peer: endpoint)
        m.initiated(tunnel: TunnelID(peer: "b"), now: .seconds(200))
        m.record(tunnel: TunnelID(peer: "b"), event: established, now: .seconds(200))
        m.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(ControlStatusTests.childSA(0x10)), now: IKEInstant(nanoseconds: 200_250_000_000))
        var text = Self.render(m, at: 201, [0x10: Self.traffic(1_000, 2_000)])
        #expect(Self.value(text, up) == 1)
        #expect(Self.value(text, bytesIn) == 1_000)
        #expect(Self.value(text, packetsOut) == 20)
        // The handshake took 0.25 s: timed for peers this end initiates to, only.
        if try #require(plan.tunnels.first { $0.peer == "b" }).ike.role == .initiator {
            #expect(Self.value(text, "viaduct_ike_handshake_seconds_count{peer=\"b\"}") == 1)
            #expect(Self.value(text, "viaduct_ike_handshake_seconds_sum{peer=\"b\"}") == 0.25)
        } else {
            #expect(Self.value(text, "viaduct_ike_handshake_seconds_count{peer=\"b\"}") == nil)
        }

        // A Child SA rekey: the new SA replaces 0x10; traffic totals never go backwards.
        var rekeyed = ControlStatusTests.childSA(0x20)
        rekeyed.replacesInboundSPI = 0x10
        m.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(rekeyed), now: .seconds(300))
        text = Self.render(m, at: 300, [0x10: Self.traffic(1_500, 2_000), 0x20: Self.traffic(100, 0)])
        #expect(Self.value(text, bytesIn) == 1_600)
        m.record(tunnel: TunnelID(peer: "b"), event: .childSADeleted(inboundSPI: 0x10, outboundSPI: 0x11), now: .seconds(301))
        text = Self.render(m, at: 302, [0x20: Self.traffic(300, 100)])
        #expect(Self.value(text, "viaduct_child_sa_rekeys_total{peer=\"b\"}") == 1)
        #expect(Self.value(text, bytesIn) == 1_800)
        #expect(Self.value(text, "viaduct_tunnel_child_sas{peer=\"b\",interface=\"\(b)\"}") == 1)

        // The peer dies: down, with the reason counted.
        m.record(tunnel: TunnelID(peer: "b"), event: .deadPeer(action: .restart), now: .seconds(400))
        m.record(tunnel: TunnelID(peer: "b"), event: .childSADeleted(inboundSPI: 0x20, outboundSPI: 0x21), now: .seconds(400))
        m.record(tunnel: TunnelID(peer: "b"), event: .ikeSAFailed(IKEFailure(.deadPeer, "peer stopped answering")), now: .seconds(400))
        text = Self.render(m, at: 401)
        #expect(Self.value(text, up) == 0)
        #expect(Self.value(text, "viaduct_tunnel_state{peer=\"b\",interface=\"\(b)\",state=\"down\"}") == 1)
        #expect(Self.value(text, "viaduct_ike_sa_failures_total{peer=\"b\",reason=\"dead-peer\"}") == 1)
        #expect(Self.value(text, "viaduct_dead_peers_total{peer=\"b\"}") == 1)
        #expect(Self.value(text, bytesIn) == 1_800)
        #expect(Self.value(text, "viaduct_ike_sa_rekeys_total{peer=\"b\"}") == 0)
    }

    @Test func ikeRekeysAreCountedFromTheRekeyEventOnly() throws {
        let (_, m, _, _) = try Self.setUp()
        let e = IKEEndpoint(address: [192, 0, 2, 1], port: 4500)
        func established(_ spi: UInt64) -> IKEEvent {
            .ikeSAEstablished(initiatorSPI: IKESPI(spi), responderSPI: IKESPI(spi + 1), proposal: "p", peerIdentity: "b", local: e, peer: e)
        }
        m.record(tunnel: TunnelID(peer: "b"), event: established(1), now: .seconds(1))
        // A new IKE SA after a restart (INITIAL_CONTACT) or a failure is not a rekey.
        m.record(tunnel: TunnelID(peer: "b"), event: established(3), now: .seconds(2))
        m.record(tunnel: TunnelID(peer: "b"), event: .initialContact(peerIdentity: "b"), now: .seconds(2))
        #expect(Self.value(Self.render(m, at: 3), "viaduct_ike_sa_rekeys_total{peer=\"b\"}") == 0)
        m.record(tunnel: TunnelID(peer: "b"), event: .ikeSARekeyed(initiatorSPI: 5, responderSPI: 6, proposal: "p",
                                                 oldInitiatorSPI: 3, oldResponderSPI: 4), now: .seconds(4))
        #expect(Self.value(Self.render(m, at: 5), "viaduct_ike_sa_rekeys_total{peer=\"b\"}") == 1)
    }

    @Test func daemonCountersAreExposedByReason() throws {
        let (_, m, _, _) = try Self.setUp()
        var d = IKEEndpointCounters()
        d.datagramsReceived = 7
        d.unknownPeer = 2
        d.malformed = 1
        var text = Self.render(m, at: 101, daemon: d)
        #expect(Self.value(text, "viaduct_ike_datagrams_received_total") == 7)
        #expect(Self.value(text, "viaduct_ike_datagrams_dropped_total{reason=\"unknown-peer\"}") == 2)
        d.datagramsReceived = 9
        text = Self.render(m, at: 102, daemon: d)
        #expect(Self.value(text, "viaduct_ike_datagrams_received_total") == 9)
        #expect(Self.value(text, "viaduct_ike_datagrams_dropped_total{reason=\"malformed\"}") == 1)
    }

    @Test func httpAnswersGetMetricsAnd404sTheRest() {
        #expect(MetricsHTTP.parse(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)) == .incomplete)
        #expect(MetricsHTTP.parse(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) == .request(method: "GET", path: "/metrics"))
        #expect(MetricsHTTP.parse(Array("GET /metrics?x=1 HTTP/1.0\n\n".utf8)) == .request(method: "GET", path: "/metrics"))
        #expect(MetricsHTTP.parse(Array("GARBAGE\r\n\r\n".utf8)) == .malformed)
        #expect(MetricsHTTP.parse([UInt8](repeating: 0x41, count: MetricsHTTP.maxRequestHead + 1)) == .tooLarge)
        let ok = String(decoding: MetricsHTTP.respond(to: .request(method: "GET", path: "/metrics")) { Array("a 1\n".utf8) }, as: UTF8.self)
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(ok.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(ok.hasSuffix("Content-Length: 4\r\nConnection: close\r\n\r\na 1\n"))
        var called = false
        for p in [MetricsHTTP.Parse.request(method: "GET", path: "/"), .request(method: "POST", path: "/metrics")] {
            let r = String(decoding: MetricsHTTP.respond(to: p) { called = true; return [] }, as: UTF8.self)
            #expect(r.hasPrefix("HTTP/1.1 404 "))
        }
        #expect(!called)
        #expect(String(decoding: MetricsHTTP.respond(to: .tooLarge) { [] }, as: UTF8.self).hasPrefix("HTTP/1.1 431 "))
    }

    @Test func addressesParseOrSayWhatIsExpected() throws {
        #expect(try MetricsAddress(parsing: "127.0.0.1:9469").endpoint == IKEEndpoint(address: [127, 0, 0, 1], port: 9469))
        let v6 = try MetricsAddress(parsing: "[::1]:9469")
        #expect(v6.endpoint.address == [UInt8](repeating: 0, count: 15) + [1] && v6.endpoint.port == 9469)
        #expect(v6.description == "[::1]:9469")
        for bad in ["9469", "localhost:9469", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:9469", "[::1]9469", ""] {
            #expect(throws: DaemonError.self, "\(bad)") { _ = try MetricsAddress(parsing: bad) }
        }
    }

    /// The endpoint over real TCP on 192.0.2.1 in a namespace of the test's own, driven by hand
    /// with what poll(2) reports (as the control socket's test does).
    @Test func endpointServesScrapesBoundsConnectionsAndDropsSlowClients() throws {
        guard TestNamespace.isRoot else {
            print("SKIP endpointServesScrapesBoundsConnectionsAndDropsSlowClients: needs root for network namespaces")
            return
        }
        let ns = try TestNamespace(prefix: "vdt-op-metrics")
        defer { ns.remove() }
        let address = try MetricsAddress(parsing: "192.0.2.1:9469")
        var scrapes = 0
        let server = try ns.inside { try MetricsServer(address: address) { _ in scrapes += 1; return Array("viaduct_up 1\n".utf8) } }
        defer { server.close() }
        func pump(at seconds: Double = 10) {
            var fds = server.pollDescriptors()
            _ = poll(&fds, nfds_t(fds.count), 200)
            server.handle(fds[...], now: .seconds(seconds))
        }
        func connect() throws -> Int32 {
            try ns.inside {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = UInt16(9469).bigEndian
                sin.sin_addr.s_addr = UInt32(0xC000_0201).bigEndian
                let r = withUnsafePointer(to: sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                guard fd >= 0, r == 0 else { throw DaemonError(.system, "connect failed") }
                var tv = timeval(tv_sec: 2, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                return fd
            }
        }
        func exchange(_ request: String) throws -> String {
            let fd = try connect()
            defer { _ = Glibc.close(fd) }
            pump()
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            var reply: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            for _ in 0..<10 {
                pump()
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 { reply += buf[0..<n] }
                if n == 0 { break }
            }
            return String(decoding: reply, as: UTF8.self)
        }
        let ok = try exchange("GET /metrics HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK"))
        #expect(ok.hasSuffix("\r\n\r\nviaduct_up 1\n"))
        #expect(try exchange("GET / HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        #expect(scrapes == 1)
        #expect(server.connectionCount == 0)

        // Slow clients that never send a request: at most maxConnections are kept...
        var idle: [Int32] = []
        defer { for fd in idle { _ = Glibc.close(fd) } }
        for _ in 0..<(MetricsServer.maxConnections + 2) { idle.append(try connect()) }
        pump(); pump()
        #expect(server.connectionCount == MetricsServer.maxConnections)
        // ...and dropped once their time is up, which frees the endpoint for a real scrape.
        pump(at: 10 + MetricsServer.timeoutSeconds + 1)
        #expect(server.connectionCount == 0)
        #expect(try exchange("GET /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 200 OK"))
    }
}
