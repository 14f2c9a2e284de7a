import DataplaneContract
import IKEv2
import NetTypes
import Prometheus
import Topology

/// The daemon's Prometheus metrics: a `PrometheusCollectorRegistry` fed from the same tunnel
/// events as `viaduct status` (through `EndpointDriver.onEvent`) and refreshed from a status
/// snapshot and the data plane's counters when scraped, so nothing runs on the packet path.
/// Every configured tunnel has its series from the start, down ones included, labelled with
/// the peer and the interface. Called from the daemon's one thread only; the time is passed in.
public final class DaemonMetrics {
    public let registry = PrometheusCollectorRegistry()
    private let book: TunnelStatusBook
    private var interfaces: [TunnelID: String]
    private var initiators: Set<TunnelID>

    /// IKE_SA_INIT sent, per initiator peer, until its first Child SA is ready.
    private var handshakeStarted: [TunnelID: IKEInstant] = [:]
    /// Peers with an IKE SA up (a second one established meanwhile is a rekey), and one whose
    /// new IKE SA may still turn out to be a restart (INITIAL_CONTACT follows at once).
    /// Data plane counters: what the last scrape saw per live Child SA, and what Child SAs
    /// gone since added up, per peer, so the totals never go backwards when SAs are replaced.
    private var lastSeen: [TunnelID: [ESPSPI: ChildSACounters]] = [:]
    private var retired: [TunnelID: ChildSACounters] = [:]
    private var emitted: [TunnelID: ChildSACounters] = [:]
    private var emittedDaemon = IKEEndpointCounters()
    /// The expiry series last set, so a replaced certificate's series goes away.
    private var expirySeries: [(MetricNameDescriptor, [(String, String)])] = []

    static let states: [TunnelStatus.State] = [.down, .connecting, .established]
    static let handshakeBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "viaduct", metricName: metric, unitName: unit, helpText: help)
    }

    static var tunnelUp: MetricNameDescriptor { name("tunnel", "up", "1 when the tunnel carries traffic (an IKE SA and at least one Child SA), else 0") }
    static var tunnelState: MetricNameDescriptor { name("tunnel", "state", "1 for the tunnel's current state (down, connecting, established), 0 for the others") }
    static var childSAs: MetricNameDescriptor { name("tunnel_child_sas", "", "Child SAs installed for the tunnel (2 during a rekey)") }
    static var bytes: MetricNameDescriptor { name("tunnel_bytes", "total", "Bytes through the tunnel's Child SAs as the data plane counts them, by direction") }
    static var packets: MetricNameDescriptor { name("tunnel_packets", "total", "Packets through the tunnel's Child SAs, by direction") }
    static var ikeRekeys: MetricNameDescriptor { name("ike_sa_rekeys", "total", "IKE SAs that replaced one still up with the same peer") }
    static var ikeReauthentications: MetricNameDescriptor { name("ike_sa_reauthentications", "total", "IKE SAs replaced by a new one with a full IKE_AUTH (RFC 7296 section 2.8.3), by either side") }
    static var childRekeys: MetricNameDescriptor { name("child_sa_rekeys", "total", "Child SAs that replaced an older one (RFC 7296 section 2.8)") }
    static var failures: MetricNameDescriptor { name("ike_sa_failures", "total", "IKE SAs that failed or died, by reason (the IKEFailure code)") }
    static var deadPeers: MetricNameDescriptor { name("dead_peers", "total", "Times a peer stopped answering liveness checks") }
    static var childRefusals: MetricNameDescriptor {
        name("child_sa_refusals", "total", "New Child SAs the peer asked for and this end refused (RFC 7296 1.3.1)")
    }
    static var handshake: MetricNameDescriptor { name("ike_handshake_seconds", "", "IKE_SA_INIT sent to first Child SA ready, as initiator") }
    static var uptime: MetricNameDescriptor { name("daemon_uptime", "seconds", "Seconds since the daemon started") }
    static var received: MetricNameDescriptor { name("ike_datagrams_received", "total", "Datagrams read from the IKE sockets") }
    static var sent: MetricNameDescriptor { name("ike_datagrams_sent", "total", "IKE datagrams sent") }
    static var sendErrors: MetricNameDescriptor { name("ike_send_errors", "total", "IKE datagrams the kernel refused to send") }
    static var receiveErrors: MetricNameDescriptor { name("ike_receive_errors", "total", "Failed reads from the IKE sockets") }
    static var dropped: MetricNameDescriptor { name("ike_datagrams_dropped", "total", "Datagrams that reached no IKE session, by reason") }
    static var buildInfo: MetricNameDescriptor { name("build_info", "", "Always 1; the version label is the daemon's build (viaduct --version)") }
    static var keepalives: MetricNameDescriptor { name("nat_keepalives_received", "total", "NAT keepalives received (RFC 3948)") }

    static var certificateNotAfter: MetricNameDescriptor { name("certificate_not_after", "timestamp_seconds", "notAfter of every certificate in use (Unix time): role own, ca, or peer (as presented at its last authentication)") }
    static var crlNextUpdate: MetricNameDescriptor { name("crl_next_update", "timestamp_seconds", "nextUpdate of every CRL in use (Unix time): after it, peers of its CA fail to authenticate") }

    /// One gauge per certificate and CRL in use (`CredentialExpiryMonitor.items`), labelled
    /// with what it is; the series of items no longer in use are removed.
    public func update(expiring items: [ExpiringItem]) {
        for (d, labels) in expirySeries { registry.unregisterGauge(registry.makeGauge(descriptor: d, labels: labels)) }
        var seen = Set<String>()
        let items = items.filter { seen.insert("\($0.role)|\($0.peer ?? "")|\($0.subject)|\($0.serial)").inserted }
        expirySeries = items.map { item in
            item.role == .crl
                ? (Self.crlNextUpdate, [("issuer", item.subject), ("number", item.serial)])
                : (Self.certificateNotAfter, [("role", item.role.rawValue), ("peer", item.peer ?? ""), ("subject", item.subject),
                                              ("serial", item.serial)])
        }
        for ((d, labels), item) in zip(expirySeries, items) {
            registry.makeGauge(descriptor: d, labels: labels).set(to: Double(item.expires))
        }
    }

    public init(plan: NodePlan, peers: [IKETunnelPeer], dataplane: String, startedAt: IKEInstant, version: String = "unknown") {
        book = TunnelStatusBook(plan: plan, peers: peers, dataplane: dataplane, startedAt: startedAt)
        interfaces = TunnelLinkStates.interfaces(of: plan)
        initiators = Set(peers.filter(\.initiator).map(\.tunnel))
        registry.makeGauge(descriptor: Self.buildInfo, labels: [("version", version)]).set(to: 1)
        // Every series exists from the start (zero), so a dashboard sees a tunnel that never came up.
        register(peers)
        for reason in ["malformed", "unknown-peer", "unknown-spi", "esp-on-ike-socket"] {
            _ = registry.makeCounter(descriptor: Self.dropped, labels: [("reason", reason)])
        }
        refresh(now: startedAt, daemon: IKEEndpointCounters()) { _ in nil }
    }

    /// `viaduct apply`: the tunnels of the new plan. A removed tunnel's per-tunnel gauges are
    /// unregistered (a dashboard must not keep showing it up); its counters stay, as counters do.
    public func update(plan: NodePlan, peers: [IKETunnelPeer], fresh: Set<TunnelID>) {
        let wanted = Set(peers.map(\.tunnel))
        for (tunnel, _) in interfaces where !wanted.contains(tunnel) || fresh.contains(tunnel) {
            let labels = tunnelLabels(tunnel)
            registry.unregisterGauge(registry.makeGauge(descriptor: Self.tunnelUp, labels: labels))
            registry.unregisterGauge(registry.makeGauge(descriptor: Self.childSAs, labels: labels))
            for s in Self.states {
                registry.unregisterGauge(registry.makeGauge(descriptor: Self.tunnelState, labels: labels + [("state", s.rawValue)]))
            }
        }
        book.update(plan: plan, peers: peers, fresh: fresh)
        interfaces = TunnelLinkStates.interfaces(of: plan)
        initiators = Set(peers.filter(\.initiator).map(\.tunnel))
        register(peers)
    }

    private func register(_ peers: [IKETunnelPeer]) {
        for p in peers {
            _ = registry.makeCounter(descriptor: Self.ikeRekeys, labels: [("peer", p.name)])
            _ = registry.makeCounter(descriptor: Self.ikeReauthentications, labels: [("peer", p.name)])
            _ = registry.makeCounter(descriptor: Self.childRekeys, labels: [("peer", p.name)])
            _ = registry.makeCounter(descriptor: Self.deadPeers, labels: [("peer", p.name)])
            _ = registry.makeCounter(descriptor: Self.childRefusals, labels: [("peer", p.name)])
            for d in ["in", "out"] {
                _ = registry.makeCounter(descriptor: Self.bytes, labels: tunnelLabels(p.tunnel) + [("direction", d)])
                _ = registry.makeCounter(descriptor: Self.packets, labels: tunnelLabels(p.tunnel) + [("direction", d)])
            }
            if p.initiator {
                _ = registry.makeValueHistogram(descriptor: Self.handshake, labels: [("peer", p.name)], buckets: Self.handshakeBuckets)
            }
        }
    }

    private func tunnelLabels(_ tunnel: TunnelID) -> [(String, String)] {
        [("peer", tunnel.peer), ("interface", interfaces[tunnel] ?? "?")]
    }

    /// One IKE_SA_INIT sent by this end (`EndpointDriver.onInitiate`).
    public func initiated(tunnel: TunnelID, now: IKEInstant) {
        handshakeStarted[tunnel] = now
    }

    /// One engine event (`EndpointDriver.onEvent`).
    public func record(tunnel: TunnelID, event: IKEEvent, now: IKEInstant) {
        book.record(tunnel: tunnel, event: event, now: now, epochSeconds: 0)
        let peer = tunnel.peer
        switch event {
        case .ikeSARekeyed:
            registry.makeCounter(descriptor: Self.ikeRekeys, labels: [("peer", peer)]).increment()
        case .childSAReady(let sa):
            if sa.replacesInboundSPI != nil {
                registry.makeCounter(descriptor: Self.childRekeys, labels: [("peer", peer)]).increment()
            } else if let started = handshakeStarted.removeValue(forKey: tunnel), initiators.contains(tunnel) {
                registry.makeValueHistogram(descriptor: Self.handshake, labels: [("peer", peer)], buckets: Self.handshakeBuckets)
                    .record(now.seconds(since: started))
            }
        case .ikeSAFailed(let f):
            handshakeStarted[tunnel] = nil
            registry.makeCounter(descriptor: Self.failures, labels: [("peer", peer), ("reason", f.code.rawValue)]).increment()
        case .deadPeer:
            registry.makeCounter(descriptor: Self.deadPeers, labels: [("peer", peer)]).increment()
        case .childSARefused:
            registry.makeCounter(descriptor: Self.childRefusals, labels: [("peer", peer)]).increment()
        case .ikeSAReauthenticated:
            registry.makeCounter(descriptor: Self.ikeReauthentications, labels: [("peer", peer)]).increment()
        case .ikeSAEstablished, .ikeSADeleted, .childSADeleted, .childSAOutboundActivated, .initialContact, .peerEndpointChanged,
             .reauthenticationDue:
            break
        }
    }

    /// Brings every gauge and total up to date and returns the text exposition format.
    public func render(now: IKEInstant, daemon: IKEEndpointCounters, counters: (ESPSPI) -> ChildSACounters?) -> [UInt8] {
        refresh(now: now, daemon: daemon, counters: counters)
        return registry.emitToBuffer()
    }

    private func refresh(now: IKEInstant, daemon: IKEEndpointCounters, counters: (ESPSPI) -> ChildSACounters?) {
        let status = book.snapshot(now: now, daemon: daemon, counters: counters)
        for t in status.tunnels {
            let tunnel = TunnelID(peer: t.peer)
            let labels = tunnelLabels(tunnel)
            let up = t.carriesTraffic
            registry.makeGauge(descriptor: Self.tunnelUp, labels: labels).set(to: up ? 1 : 0)
            for s in Self.states {
                registry.makeGauge(descriptor: Self.tunnelState, labels: labels + [("state", s.rawValue)]).set(to: s == t.state ? 1 : 0)
            }
            registry.makeGauge(descriptor: Self.childSAs, labels: labels).set(to: Double(t.childSAs.count))
            updateTraffic(tunnel, children: t.childSAs, labels: labels)
        }
        registry.makeGauge(descriptor: Self.uptime, labels: []).set(to: Double(status.uptimeSeconds))
        updateDaemon(daemon)
    }

    /// Totals per tunnel = Child SAs gone (as last seen) + Child SAs installed now; the counters
    /// advance by the difference to what was emitted before.
    private func updateTraffic(_ tunnel: TunnelID, children: [TunnelStatus.ChildSA], labels: [(String, String)]) {
        var now: [ESPSPI: ChildSACounters] = [:]
        for c in children {
            guard let spi = UInt32(c.spiIn, radix: 16) else { continue }
            var k = ChildSACounters()
            k.inboundBytes = c.bytesIn
            k.inboundPackets = c.packetsIn
            k.outboundBytes = c.bytesOut
            k.outboundPackets = c.packetsOut
            now[ESPSPI(spi)] = k
        }
        var gone = retired[tunnel] ?? ChildSACounters()
        for (spi, k) in lastSeen[tunnel] ?? [:] where now[spi] == nil { gone = Self.sum(gone, k) }
        retired[tunnel] = gone
        lastSeen[tunnel] = now
        let total = now.values.reduce(gone, Self.sum)
        let before = emitted[tunnel] ?? ChildSACounters()
        let bytesIn = registry.makeCounter(descriptor: Self.bytes, labels: labels + [("direction", "in")])
        let bytesOut = registry.makeCounter(descriptor: Self.bytes, labels: labels + [("direction", "out")])
        let packetsIn = registry.makeCounter(descriptor: Self.packets, labels: labels + [("direction", "in")])
        let packetsOut = registry.makeCounter(descriptor: Self.packets, labels: labels + [("direction", "out")])
        Self.advance(bytesIn, from: before.inboundBytes, to: total.inboundBytes)
        Self.advance(bytesOut, from: before.outboundBytes, to: total.outboundBytes)
        Self.advance(packetsIn, from: before.inboundPackets, to: total.inboundPackets)
        Self.advance(packetsOut, from: before.outboundPackets, to: total.outboundPackets)
        emitted[tunnel] = Self.maximum(before, total)
    }

    private func updateDaemon(_ d: IKEEndpointCounters) {
        let e = emittedDaemon
        Self.advance(registry.makeCounter(descriptor: Self.received, labels: []), from: e.datagramsReceived, to: d.datagramsReceived)
        Self.advance(registry.makeCounter(descriptor: Self.sent, labels: []), from: e.datagramsSent, to: d.datagramsSent)
        Self.advance(registry.makeCounter(descriptor: Self.sendErrors, labels: []), from: e.sendErrors, to: d.sendErrors)
        Self.advance(registry.makeCounter(descriptor: Self.receiveErrors, labels: []), from: e.receiveErrors, to: d.receiveErrors)
        Self.advance(registry.makeCounter(descriptor: Self.keepalives, labels: []), from: e.natKeepalives, to: d.natKeepalives)
        for (reason, old, new) in [("malformed", e.malformed, d.malformed), ("unknown-peer", e.unknownPeer, d.unknownPeer),
                                   ("unknown-spi", e.unknownSPI, d.unknownSPI), ("esp-on-ike-socket", e.espOnNATTPort, d.espOnNATTPort)] {
            Self.advance(registry.makeCounter(descriptor: Self.dropped, labels: [("reason", reason)]), from: old, to: new)
        }
        emittedDaemon = d
    }

    /// A Prometheus counter only goes up; a smaller value (never expected) is ignored.
    private static func advance(_ c: Counter, from old: UInt64, to new: UInt64) {
        guard new > old else { return }
        c.increment(by: Int64(clamping: new - old))
    }

    private static func sum(_ a: ChildSACounters, _ b: ChildSACounters) -> ChildSACounters {
        var s = ChildSACounters()
        s.inboundBytes = a.inboundBytes &+ b.inboundBytes
        s.inboundPackets = a.inboundPackets &+ b.inboundPackets
        s.outboundBytes = a.outboundBytes &+ b.outboundBytes
        s.outboundPackets = a.outboundPackets &+ b.outboundPackets
        return s
    }

    private static func maximum(_ a: ChildSACounters, _ b: ChildSACounters) -> ChildSACounters {
        var s = ChildSACounters()
        s.inboundBytes = max(a.inboundBytes, b.inboundBytes)
        s.inboundPackets = max(a.inboundPackets, b.inboundPackets)
        s.outboundBytes = max(a.outboundBytes, b.outboundBytes)
        s.outboundPackets = max(a.outboundPackets, b.outboundPackets)
        return s
    }
}
