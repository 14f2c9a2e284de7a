import DataplaneContract
import IKEv2
import NetTypes
import Topology

/// The daemon's memory of each tunnel, fed with every IKE event the sessions produce (through
/// `EndpointDriver.onEvent`) and read by the control socket. It keeps what the events carry (SPIs,
/// algorithms, times, the last failure) and asks the data plane for counters only when a
/// status is requested, so recording costs nothing on the packet path. Pure: the caller
/// passes the time, so tests drive it with a fake clock.
public final class TunnelStatusBook {
    private struct ChildRecord {
        var sa: TunnelStatus.ChildSA
        var since: IKEInstant
        var lifetimeSeconds: Double
    }

    private struct Entry {
        var peer: IKETunnelPeer
        var interface: String
        var ikeLifetimeSeconds: Double
        var ikeRekeyMarginSeconds: Double
        var espRekeyMarginSeconds: Double
        var ike: TunnelStatus.IKESA?
        var ikeSince: IKEInstant?
        var children: [ESPSPI: ChildRecord] = [:]
        var childOrder: [ESPSPI] = []
        var lastError: (failure: IKEFailure, at: IKEInstant)?
        var lastDown: (what: String, at: IKEInstant)?
        /// The peer's last new Child SA this end refused (RFC 7296 §1.3.1).
        var refusedChild: (reason: String, notify: UInt16, at: IKEInstant)?
        /// The last Child SA the data plane refused to install, while the IKE SA lives.
        var refused: (inbound: ESPSPI, spis: String, reason: String)?
    }

    public let node: String
    public let dataplane: String
    /// Per tunnel, the ESP transforms of its proposals the data plane cannot carry and so are not
    /// negotiated (`PeerConfigurationMapper.espProposals`): added to a NO_PROPOSAL_CHOSEN reason.
    public var uncarriedESP: [TunnelID: String] = [:]
    private let startedAt: IKEInstant
    private var entries: [Entry] = []
    /// Where the lookup of a peer known by name stands (`PeerNameResolver.status`): its address
    /// and, while its IKE SA waits for the resolver, the reason.
    public var peerNames: ((TunnelID) -> PeerNameResolver.Status?)?

    /// The daemon's build, reported in every snapshot.
    public let version: String?

    public init(plan: NodePlan, peers: [IKETunnelPeer], dataplane: String, startedAt: IKEInstant, version: String? = nil) {
        self.version = version
        node = plan.node
        self.dataplane = dataplane
        self.startedAt = startedAt
        entries = Self.entries(plan: plan, peers: peers, keeping: [])
    }

    /// `viaduct apply`: the tunnels of the new plan. A tunnel whose peer is unchanged keeps
    /// what the book knows of it (SAs, last error); new ones and those in `fresh` (re-established)
    /// start empty; removed ones go.
    public func update(plan: NodePlan, peers: [IKETunnelPeer], fresh: Set<TunnelID> = []) {
        entries = Self.entries(plan: plan, peers: peers, keeping: entries.filter { !fresh.contains($0.peer.tunnel) })
    }

    private static func entries(plan: NodePlan, peers: [IKETunnelPeer], keeping old: [Entry]) -> [Entry] {
        peers.map { p in
            let t = plan.tunnels.first { $0.peer == p.name }
            var e = old.first { $0.peer == p } ?? Entry(peer: p, interface: "?", ikeLifetimeSeconds: 0,
                                                         ikeRekeyMarginSeconds: 0, espRekeyMarginSeconds: 0)
            e.interface = t?.interface.name ?? "?"
            e.ikeLifetimeSeconds = Double(t?.ike.lifetime.seconds ?? 0)
            e.ikeRekeyMarginSeconds = Double(t?.ike.rekeyMargin.seconds ?? 0)
            e.espRekeyMarginSeconds = Double(t?.esp.rekeyMargin.seconds ?? 0)
            return e
        }
    }

    /// Records one engine event of `tunnel` and returns it as the operator-facing transition.
    @discardableResult
    public func record(tunnel: TunnelID, event: IKEEvent, now: IKEInstant, epochSeconds: Int64) -> TunnelEvent {
        let i = entries.firstIndex { $0.peer.tunnel == tunnel }
        func emit(_ kind: TunnelEvent.Kind, _ spis: String?, _ detail: String) -> TunnelEvent {
            TunnelEvent(at: epochSeconds, peer: tunnel.peer, kind: kind, spis: spis, detail: detail)
        }
        switch event {
        case .ikeSAEstablished(let spiI, let spiR, let proposal, let peerIdentity, let local, let remote):
            let spis = "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r"
            if let i {
                entries[i].ike = TunnelStatus.IKESA(
                    spis: spis, proposal: proposal, peerIdentity: peerIdentity, local: "\(local)", remote: "\(remote)",
                    udpEncapsulation: local.port != entries[i].peer.local.port || remote.port != entries[i].peer.remote.port,
                    uptimeSeconds: 0, rekeyInSeconds: 0)
                entries[i].ikeSince = now
            }
            return emit(.ikeUp, spis, "\(proposal) peer_id=\(peerIdentity) remote=\(remote)")
        case .ikeSARekeyed(let spiI, let spiR, let proposal, let oldI, let oldR):
            let spis = "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r"
            if let i, var ike = entries[i].ike {
                ike.spis = spis
                ike.proposal = proposal
                entries[i].ike = ike
                entries[i].ikeSince = now
            }
            return emit(.ikeRekeyed, spis, "\(proposal) replaces \(SPIText.ike(oldI))_i \(SPIText.ike(oldR))_r")
        case .childSAReady(let sa):
            let spis = "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o"
            let enc = AlgorithmText.encryption(sa.encryption)
            let integ = sa.integrity.map(AlgorithmText.integrity)
            if let i {
                if entries[i].children[sa.inboundSPI] == nil { entries[i].childOrder.append(sa.inboundSPI) }
                entries[i].children[sa.inboundSPI] = ChildRecord(
                    sa: TunnelStatus.ChildSA(
                        spiIn: SPIText.child(sa.inboundSPI), spiOut: SPIText.child(sa.outboundSPI), encryption: enc,
                        integrity: integ, udpEncapsulation: sa.udpEncapsulation, uptimeSeconds: 0, rekeyInSeconds: 0,
                        expiresInSeconds: 0, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0),
                    since: now, lifetimeSeconds: sa.lifetimeSeconds)
            }
            return emit(.childUp, spis, enc + (integ.map { "-" + $0 } ?? "") + (sa.udpEncapsulation ? " udp-encap" : ""))
        case .childSADeleted(let inbound, let outbound):
            if let i {
                if entries[i].refused?.inbound == inbound { entries[i].refused = nil }
                entries[i].children[inbound] = nil
                entries[i].childOrder.removeAll { $0 == inbound }
            }
            return emit(.childDown, "\(SPIText.child(inbound))_i \(SPIText.child(outbound))_o", "Child SA deleted")
        case .childSAOutboundActivated(let inbound, let outbound):
            return emit(.childSwitched, "\(SPIText.child(inbound))_i \(SPIText.child(outbound))_o", "outbound traffic moved to this Child SA")
        case .deadPeer(let action):
            return emit(.peerDead, nil, "the peer stopped answering liveness checks; action \(action)")
        case .initialContact(let identity):
            return emit(.peerRestarted, nil, "\(identity) sent INITIAL_CONTACT: it restarted, older SAs of it are stale")
        case .ikeSAFailed(let f):
            if let i {
                entries[i].refused = nil
                entries[i].lastError = (f, now)
                entries[i].ike = nil
                entries[i].ikeSince = nil
                entries[i].children = [:]
                entries[i].childOrder = []
            }
            return emit(.ikeFailed, nil, Self.words(f))
        case .ikeSADeleted:
            if let i {
                entries[i].refused = nil
                entries[i].lastDown = ("the IKE SA was deleted", now)
                entries[i].ike = nil
                entries[i].ikeSince = nil
                entries[i].children = [:]
                entries[i].childOrder = []
            }
            return emit(.ikeDeleted, nil, "IKE SA deleted")
        case .reauthenticationDue:
            return emit(.ikeReauthenticating, i.flatMap { entries[$0].ike?.spis },
                        "the IKE SA's time is up: a new one is being negotiated next to it (make-before-break)")
        case .ikeSAReauthenticated(let spiI, let spiR, let oldI, let oldR):
            let spis = "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r"
            if let i, var ike = entries[i].ike {
                ike.spis = spis
                entries[i].ike = ike
            }
            return emit(.ikeReauthenticated, spis, "reauthenticated: replaces \(SPIText.ike(oldI))_i \(SPIText.ike(oldR))_r")
        case .childSARefused(let reason, let notify):
            if let i { entries[i].refusedChild = (reason, notify, now) }
            return emit(.peerChildRefused, nil, "refused the peer's new Child SA with \(NotifyName.of(notify)): \(reason)")
        case .peerEndpointChanged(let previous, let remote, _):
            if let i { entries[i].ike?.remote = "\(remote)" }
            return emit(.peerMoved, nil, "the peer's NAT mapping moved from \(previous) to \(remote); IKE and ESP follow it")
        }
    }

    /// The engine negotiated `sa` but the data plane refused to install it (`EndpointDriver.onChildSARefused`):
    /// it is not recorded as a Child SA, so the tunnel is not up on its account, and `reason` says
    /// why while no other Child SA carries the tunnel.
    @discardableResult
    public func recordRefused(tunnel: TunnelID, sa: ChildSAParameters, reason: String, epochSeconds: Int64) -> TunnelEvent {
        let spis = "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o"
        if let i = entries.firstIndex(where: { $0.peer.tunnel == tunnel }) {
            entries[i].refused = (sa.inboundSPI, spis, reason)
        }
        let enc = AlgorithmText.encryption(sa.encryption) + (sa.integrity.map { "-" + AlgorithmText.integrity($0) } ?? "")
        return TunnelEvent(at: epochSeconds, peer: tunnel.peer, kind: .childRefused, spis: spis,
                           detail: "\(enc): the \(dataplane) data plane refused it: \(reason)")
    }

    /// Every configured tunnel, in plan order, with counters from `counters` (the data
    /// plane's, by inbound SPI) and the rekey instants the engine drew from `rekeyDeadlines`
    /// (`IKESAManager.rekeyDeadlines(of:)`, jitter included; without them, `lifetime − margin`).
    public func snapshot(now: IKEInstant, daemon: IKEEndpointCounters, counters: (ESPSPI) -> ChildSACounters?,
                         rekeyDeadlines: (TunnelID) -> IKERekeyDeadlines? = { _ in nil }) -> NodeStatus {
        let tunnels = entries.map { e -> TunnelStatus in
            var ike = e.ike
            let scheduled = ike == nil ? nil : rekeyDeadlines(e.peer.tunnel)
            /// Whole seconds until `at`, 0 once it is due.
            func until(_ at: IKEInstant) -> Int { max(0, Int(at.seconds(since: now))) }
            if var s = ike, let since = e.ikeSince {
                let up = now.seconds(since: since)
                s.uptimeSeconds = Int(up)
                if let scheduled {
                    // nil: the rekey (or reauthentication) is due or under way.
                    s.rekeyInSeconds = scheduled.ike.map(until) ?? 0
                } else {
                    s.rekeyInSeconds = max(0, Int(e.ikeLifetimeSeconds - e.ikeRekeyMarginSeconds - up))
                }
                ike = s
            }
            let children = e.childOrder.compactMap { spi -> TunnelStatus.ChildSA? in
                guard let r = e.children[spi] else { return nil }
                var c = r.sa
                let up = now.seconds(since: r.since)
                c.uptimeSeconds = Int(up)
                c.expiresInSeconds = max(0, Int(r.lifetimeSeconds - up))
                if let at = scheduled?.children[spi] {
                    c.rekeyInSeconds = until(at)
                } else {
                    c.rekeyInSeconds = max(0, Int(r.lifetimeSeconds - e.espRekeyMarginSeconds - up))
                }
                if let k = counters(spi) {
                    c.packetsIn = k.inboundPackets
                    c.bytesIn = k.inboundBytes
                    c.packetsOut = k.outboundPackets
                    c.bytesOut = k.outboundBytes
                }
                return c
            }
            let state: TunnelStatus.State = ike != nil ? .established : (e.peer.initiator && e.lastError == nil && e.lastDown == nil ? .connecting : .down)
            return TunnelStatus(
                peer: e.peer.name, interface: e.interface, role: e.peer.initiator ? "initiator" : "responder",
                localAddress: e.peer.local.addressText,
                // A dynamic peer is where its IKE SA last heard from it, and unknown without one.
                peerAddress: e.peer.dynamic ? (ike.map(\.remote) ?? "dynamic") : namedAddress(e) ?? e.peer.remote.addressText, state: state,
                reason: reason(e, ike: ike, children: children, now: now),
                lastError: e.lastError.map { f in
                    TunnelStatus.Failure(code: f.failure.code.rawValue, message: f.failure.message,
                                         notify: f.failure.notify.map(NotifyName.of), by: f.failure.reportedByPeer ? "peer" : "local",
                                         secondsAgo: Int(now.seconds(since: f.at)))
                },
                refusedChildSA: e.refusedChild.map {
                    TunnelStatus.Refusal(reason: $0.reason, notify: NotifyName.of($0.notify), secondsAgo: Int(now.seconds(since: $0.at)))
                },
                ike: ike, childSAs: children)
        }
        return NodeStatus(node: node, dataplane: dataplane, uptimeSeconds: Int(now.seconds(since: startedAt)),
                          tunnels: tunnels, counters: daemon, version: version)
    }

    private func reason(_ e: Entry, ike: TunnelStatus.IKESA?, children: [TunnelStatus.ChildSA], now: IKEInstant) -> String? {
        let peer = "\(e.peer.name) (\(e.peer.remote.addressText))"
        if ike != nil {
            guard children.isEmpty else { return nil }
            if let r = e.refused {
                return "the IKE SA is up but the \(dataplane) data plane refused its Child SA \(r.spis): \(r.reason); no traffic flows"
            }
            // The initiator builds the tunnel again (EndpointDriver+ChildRecreation.swift).
            return "the IKE SA is up but no Child SA is installed: no traffic flows; "
                + (e.peer.initiator ? "re-establishing the tunnel after the retry delay"
                   : "waiting for \(peer) to create a Child SA again; rebuilding the tunnel after twice the retry delay otherwise")
        }
        if case .resolving(let name)? = peerNames?(e.peer.tunnel) {
            return "resolving \(name): the IKE SA opens when the resolver answers"
        }
        // The most recent of a failure and a clean deletion explains the state.
        if let f = e.lastError, e.lastDown.map({ $0.at <= f.at }) ?? true {
            let retry = e.peer.initiator ? "; retrying" : "; waiting for \(peer) to try again"
            var why = Self.words(f.failure)
            if f.failure.code == .noProposalChosen, let left = uncarriedESP[e.peer.tunnel] {
                why += "; not offered or accepted here: \(left)"
            }
            return why + retry
        }
        if e.lastDown != nil {
            return e.peer.initiator ? "the IKE SA was deleted; opening a new one" : "the IKE SA was deleted; waiting for \(peer) to open a new one"
        }
        return e.peer.initiator ? "opening the IKE SA: no answer yet from \(peer)" : "waiting for \(peer) to open the IKE SA"
    }

    /// A peer known by name: its last answer, else its name.
    private func namedAddress(_ e: Entry) -> String? {
        switch peerNames?(e.peer.tunnel) {
        case .resolved(_, let a)?: a.description
        case .resolving(let name)?, .failed(let name, _)?: name
        case nil: nil
        }
    }

    /// A failure as one sentence: the engine's message, and the notify with who sent it.
    static func words(_ f: IKEFailure) -> String {
        var s = "\(f.code.rawValue): \(f.message)"
        if let n = f.notify { s += " (\(f.reportedByPeer ? "peer sent" : "we sent") \(NotifyName.of(n)))" }
        return s
    }
}
