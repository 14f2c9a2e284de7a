import IKEv2
import Logging

/// The daemon's logic without its I/O: routes datagrams to sessions (creating a responder
/// session for a configured peer's new IKE_SA_INIT), fires deadlines, re-initiates failed
/// initiator SAs after a pause, collects what sessions transmit, and turns their events into
/// log lines and data-plane calls. `IKEEventLoop` feeds it from sockets and a real clock;
/// tests feed it directly with fake sessions and a fake clock. One owner calls it.
public final class DaemonCore {
    public internal(set) var counters = DaemonCounters()
    var table = SessionTable()
    var outbox: [IKEDatagram] = []
    /// Makes every new session; `viaduct apply` replaces it (new plan, reloaded credentials).
    /// Sessions already made keep what they were made with.
    public var factory: any IKESessionFactory
    private let dataplane: any DataplaneBackend
    let logger: Logger
    /// Child SAs handed to the data plane and not yet deleted, per session (inbound → outbound
    /// SPI): an IKE SA that dies without deleting them (DPD, retransmission timeout) must not
    /// leave them installed, nor its tunnel up.
    var liveChildren: [SessionTable.SessionID: [UInt32: UInt32]] = [:]

    /// The peer's unfinished sessions (other than `id`) with a Child SA in the data plane, in
    /// session order: the IKE SAs that carry the tunnel.
    func sessionsWithChildren(ofPeer p: Int, except id: SessionTable.SessionID? = nil) -> [SessionTable.SessionID] {
        table.sessions.filter { $0.key != id && $0.value.peerIndex == p && !$0.value.finished
            && !(liveChildren[$0.key] ?? [:]).isEmpty }.map(\.key).sorted()
    }
    /// Which drops from unknown sources are logged as notices (rate-limited).
    var unknownSources = UnknownSourceNotices()
    /// Initiator peers waiting to try again, by peer index.
    private var reinitiateAt: [Int: IKEInstant] = [:]
    /// Set by `closeAll`: nothing is initiated any more.
    private(set) var shuttingDown = false
    /// Pause before an initiator opens a new IKE SA after the previous one failed or was deleted.
    public var reinitiateDelaySeconds: Double
    /// Called for every event after it is logged and applied; for status and tests.
    public var onEvent: ((String, IKEEvent) -> Void)?
    /// Called when this end sends a new IKE_SA_INIT to a peer (by name); metrics time the
    /// handshake from here.
    public var onInitiate: ((String, IKEInstant) -> Void)?
    /// Decides which new IKE_SA_INIT requests get a responder session (nil: all of them).
    var admission: ResponderAdmission?
    /// RFC 7296 §2.8.3 reauthentication: what is under way, the SPIs of each established
    /// session, and responder sessions whose first Child SA waits to carry outbound traffic
    /// (DaemonCore+Reauthentication.swift).
    var reauth = ReauthenticationBook()
    /// How long a peer's new IKE SA (its reauthentication) may wait for the peer to delete the
    /// old one before its Child SA carries our outbound traffic anyway.
    public var deferredOutboundSeconds: Double = 10
    /// Initiator peers whose tunnel lost its last Child SA while an IKE SA lives on, by peer
    /// index: when it is built again (DaemonCore+ChildRecreation.swift).
    var recreateChildAt: [Int: IKEInstant] = [:]
    /// Duplicate IKE SAs (DaemonCore+DuplicateIKESAs.swift): when the reduction runs, per peer index.
    var duplicates = DuplicateIKESABook()
    /// How long two established IKE SAs of one peer, both with Child SAs and neither part of our
    /// reauthentication, may coexist before they are reduced to one: long enough for a peer's
    /// own reauthentication to delete its old SA first.
    public var duplicateGraceSeconds: Double = 30
    /// The Child SA (inbound SPI) carrying each peer's outbound traffic, by peer name, as last
    /// told to the data plane; a duplicate's removal moves it to the surviving IKE SA first.
    var currentOutbound: [String: UInt32] = [:]

    public init(factory: any IKESessionFactory, dataplane: any DataplaneBackend, logger: Logger,
                reinitiateDelaySeconds: Double = 30, admission: IKEAdmissionGate? = nil) {
        self.factory = factory
        self.dataplane = dataplane
        self.logger = logger
        self.reinitiateDelaySeconds = reinitiateDelaySeconds
        self.admission = admission.map(ResponderAdmission.init(gate:))
    }

    /// The configured peers (removed ones excluded), in the order they were added.
    public var peers: [DaemonPeer] { table.peers.indices.filter { !table.retired.contains($0) }.map { table.peers[$0] } }
    public var liveSessionCount: Int { table.sessions.values.filter { !$0.finished }.count }

    public func add(peer: DaemonPeer) {
        _ = table.addPeer(peer)
    }

    /// Initiator peers open their IKE SA; responder peers wait for theirs.
    public func start(now: IKEInstant) {
        for i in table.peers.indices where !table.retired.contains(i) { begin(peerIndex: i, now: now) }
    }

    private func begin(peerIndex i: Int, now: IKEInstant) {
        let p = table.peers[i]
        logger.info("peer configured", metadata: [
            "peer": "\(p.name)", "role": "\(p.initiator ? "initiator" : "responder")",
            "local": "\(p.local)", "remote": "\(p.remote)",
        ])
        if p.initiator { initiate(peerIndex: i, now: now) }
    }

    /// A peer added to a running daemon (`viaduct apply`): configured and, if this end
    /// initiates, its IKE SA opened at once.
    public func addRunning(peer: DaemonPeer, now: IKEInstant) {
        begin(peerIndex: table.addPeer(peer), now: now)
    }

    /// A peer removed from a running daemon (`viaduct apply`): each of its IKE SAs is deleted
    /// (one INFORMATIONAL Delete), its sessions are dropped and every Child SA they installed
    /// leaves the data plane first, so nothing of the peer is left for the kernel reconcile that
    /// follows. Returns false for an unknown peer.
    @discardableResult
    public func removeRunning(peerNamed name: String, now: IKEInstant) -> Bool {
        guard let i = table.peerIndex(named: name) else { return false }
        reinitiateAt[i] = nil
        recreateChildAt[i] = nil
        duplicates.forget(peerIndex: i)
        let peerSessions = table.sessions.filter { $0.value.peerIndex == i }.map(\.key).sorted()
        for id in peerSessions {
            // One Delete of the IKE SA (RFC 7296 §1.4.1), so the peer drops it now rather than
            // after its liveness checks; the session is forgotten, so it is not retransmitted.
            if table.sessions[id]?.finished == false {
                _ = table.withSession(id) { $0.close(now: now) }
                while let d = table.withSession(id, { $0.pollTransmit() }) ?? nil { outbox.append(d) }
            }
            sessionStoppedBeingHalfOpen(id)
            for (inbound, outbound) in (liveChildren.removeValue(forKey: id) ?? [:]).sorted(by: { $0.key < $1.key }) {
                let deleted = IKEEvent.childSADeleted(inboundSPI: inbound, outboundSPI: outbound)
                apply(deleted, peer: name)
                onEvent?(name, deleted)
            }
        }
        _ = table.retirePeer(i)
        reauth.forget(peerIndex: i, sessions: peerSessions)
        for id in peerSessions { duplicates.forget(id) }
        logger.info("peer removed", metadata: ["peer": "\(name)", "sessions": "\(peerSessions.count)"])
        return true
    }

    func initiate(peerIndex i: Int, now: IKEInstant) {
        let peer = table.peers[i]
        reinitiateAt[i] = nil
        do {
            let s = try factory.makeSession(for: peer, initiator: true)
            let id = table.addSession(s, peerIndex: i)
            logger.info("initiating IKE SA", metadata: ["peer": "\(peer.name)", "remote": "\(peer.remote)"])
            onInitiate?(peer.name, now)
            _ = table.withSession(id) { $0.start(now: now) }
            drain(id, now: now)
        } catch {
            logger.error("cannot create IKE session", metadata: ["peer": "\(peer.name)", "reason": "\(error.message)"])
            reinitiateAt[i] = now.adding(seconds: reinitiateDelaySeconds)
        }
    }

    /// One datagram off a socket, already classified by port.
    public func handle(_ inbound: IKESocketSet.Inbound, now: IKEInstant) {
        counters.datagramsReceived += 1
        switch inbound {
        case .ike(let d): receive(d, now: now)
        case .esp: counters.espOnNATTPort += 1
        case .keepalive: counters.natKeepalives += 1
        case .malformed: counters.malformed += 1
        }
    }

    public func receive(_ datagram: IKEDatagram, now: IKEInstant) {
        guard let route = IKEMessageRoute(datagram.bytes) else {
            counters.malformed += 1
            logger.debug("dropped datagram: not an IKEv2 message", metadata: [
                "from": "\(datagram.source)", "bytes": "\(datagram.bytes.count)", "reason": "malformed",
            ])
            return
        }
        IKEFragmentLog.received(datagram, logger: logger)
        switch table.route(route, from: datagram.source.address) {
        case .session(let id):
            _ = table.withSession(id) { $0.receive(datagram, now: now) }
            drain(id, now: now)
        case .newSA(let peerIndex):
            let peer = table.peers[peerIndex]
            guard case .proceed(let ticket) = admit(datagram, peer: peer.name, now: now) else { return }
            do {
                let s = try factory.makeSession(for: peer, initiator: false)
                let key = SessionTable.HalfOpenKey(address: datagram.source.address, initiatorSPI: route.initiatorSPI)
                let id = table.addSession(s, peerIndex: peerIndex, halfOpen: key)
                reauth.responders.insert(id)
                if let ticket { admission?.hold(ticket, for: id) }
                logger.info("IKE SA requested by peer", metadata: [
                    "peer": "\(peer.name)", "from": "\(datagram.source)", "spi": "\(SPIText.ike(route.initiatorSPI))_i",
                ])
                _ = table.withSession(id) { $0.receive(datagram, now: now) }
                drain(id, now: now)
            } catch {
                if let ticket { unusedTicket(ticket) }
                logger.error("cannot create IKE session", metadata: ["peer": "\(peer.name)", "reason": "\(error.message)"])
            }
        case .unknownPeer:
            counters.unknownPeer += 1
            let metadata: Logger.Metadata = [
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(route.initiatorSPI))_i",
                "exchange": "\(IKEExchangeType(rawValue: route.exchangeType))", "reason": "unknown-peer",
            ]
            if unknownSources.shouldLog(source: datagram.source.address, now: now) {
                // A peer whose underlay address is not the one the topology names shows up here.
                let held = unknownSources.takeSuppressed()
                logger.notice("IKE from an address that is no configured peer: dropped (check the peer's underlay address or NAT)",
                              metadata: held > 0 ? metadata.merging(["suppressed_since_last": "\(held)"]) { a, _ in a } : metadata)
            } else {
                logger.debug("dropped datagram from an unknown peer", metadata: metadata)
            }
        case .unknownSPI:
            counters.unknownSPI += 1
            logger.debug("dropped datagram for an unknown IKE SA", metadata: [
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(route.initiatorSPI))_i \(SPIText.ike(route.responderSPI))_r",
                "reason": "unknown-spi",
            ])
        }
    }

    /// An operator's command for one peer's tunnel, applied to each of its live sessions;
    /// nil when at least one took it, otherwise why not (unknown peer, nothing established).
    public func perform(_ command: SessionCommand, peer name: String, now: IKEInstant) -> String? {
        guard let index = table.peers.firstIndex(where: { $0.name == name }) else {
            return "no tunnel to '\(name)' on this node (peers: \(table.peers.map(\.name).joined(separator: ", ")))"
        }
        let live = table.sessions.filter { $0.value.peerIndex == index && !$0.value.finished }.map(\.key).sorted()
        var done = false
        for id in live {
            if table.withSession(id, { $0.perform(command, now: now) }) == true { done = true }
            drain(id, now: now)
        }
        logger.info("operator command", metadata: ["peer": "\(name)", "command": "\(command.rawValue)", "applied": "\(done)"])
        return done ? nil : "the tunnel to '\(name)' has no established \(command == .rekeyChild || command == .deleteChild ? "Child SA" : "IKE SA")"
    }

    /// Shutdown: asks every live session to delete its IKE SA; returns how many are live. The
    /// answers (or timeouts) finish them as usual, and no peer is re-initiated afterwards.
    public func closeAll(now: IKEInstant) -> Int {
        shuttingDown = true
        reinitiateAt = [:]
        recreateChildAt = [:]
        duplicates = DuplicateIKESABook()
        let live = table.sessions.filter { !$0.value.finished }.map(\.key).sorted()
        for id in live {
            _ = table.withSession(id) { $0.close(now: now) }
            drain(id, now: now)
        }
        return liveSessionCount
    }

    /// Calls `timeout(now:)` on every session whose deadline has passed, re-initiates where
    /// the pause is over, and forgets finished sessions.
    public func fireTimers(now: IKEInstant) {
        for (id, entry) in table.sessions {
            guard let d = entry.session.nextDeadline, d <= now else { continue }
            _ = table.withSession(id) { $0.timeout(now: now) }
            drain(id, now: now)
        }
        for (i, at) in reinitiateAt where at <= now { initiate(peerIndex: i, now: now) }
        reauthenticationTimers(now: now)
        childRecreationTimers(now: now)
        duplicateTimers(now: now)
        for id in table.reap() {
            sessionStoppedBeingHalfOpen(id)
            reauth.forget(id)
            duplicates.forget(id)
        }
    }

    /// The earliest deadline of any session or pending re-initiation.
    public var nextDeadline: IKEInstant? {
        (table.sessions.values.compactMap(\.session.nextDeadline) + reinitiateAt.values + reauth.deadlines
            + recreateChildAt.values + duplicates.checkAt.values).min()
    }

    /// Everything the sessions want sent, in order; empties the queue.
    public func takeOutgoing() -> [IKEDatagram] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    public func noteSent() { counters.datagramsSent += 1 }

    public func noteSendFailure(_ datagram: IKEDatagram, _ error: DaemonError) {
        counters.sendErrors += 1
        logger.warning("send failed", metadata: [
            "peer": "\(peerName(for: datagram.destination.address))", "reason": "\(error.message)",
        ])
    }

    public func noteReceiveFailure(_ error: DaemonError) {
        counters.receiveErrors += 1
        logger.warning("receive failed", metadata: ["reason": "\(error.message)"])
    }

    private func peerName(for address: [UInt8]) -> String {
        peers.first { $0.addresses.contains(address) }?.name ?? "?"
    }

    func drain(_ id: SessionTable.SessionID, now: IKEInstant) {
        while let d = table.withSession(id, { $0.pollTransmit() }) ?? nil {
            if d.isNATKeepalive {
                counters.natKeepalivesSent += 1
            } else {
                table.learn(outgoing: d.bytes, from: id)
                IKEFragmentLog.sent(d, logger: logger)
            }
            outbox.append(d)
        }
        if let spis = table.sessions[id]?.session.localIKESPIs { table.sync(spis: spis, of: id) }
        guard let peerIndex = table.sessions[id]?.peerIndex else { return }
        let peer = table.peers[peerIndex]
        var childDeleted = false
        var saChanged = false
        while let polled = table.withSession(id, { $0.pollEvent() }) ?? nil {
            // §2.8.3: a peer's new IKE SA may have to wait before it carries outbound traffic,
            // and must carry it before any older SA of the peer loses a Child SA.
            let e = beforeApplying(polled, session: id, peerIndex: peerIndex, now: now)
            apply(e, peer: peer.name)
            var report = true
            switch e {
            case .ikeSAEstablished, .ikeSARekeyed, .childSAReady, .childSADeleted, .initialContact, .ikeSAFailed, .ikeSADeleted:
                saChanged = true
            default: break
            }
            switch e {
            case .ikeSAEstablished(let spiI, let spiR, _, _, _, _):
                reinitiateAt[peerIndex] = nil
                reauth.spis[id] = (spiI, spiR)
                sessionStoppedBeingHalfOpen(id)
            case .ikeSARekeyed(let spiI, let spiR, _, _, _):
                reauth.spis[id] = (spiI, spiR)
            case .childSAReady(let sa):
                liveChildren[id, default: [:]][sa.inboundSPI] = sa.outboundSPI
                reauthenticationChildReady(id, peerIndex: peerIndex, now: now)
            case .childSADeleted(let inbound, _):
                liveChildren[id]?[inbound] = nil
                childDeleted = true
            case .initialContact:
                dropStaleSessions(of: peerIndex, keeping: id, peer: peer.name)
            case .reauthenticationDue:
                startReauthentication(replacing: id, peerIndex: peerIndex, now: now)
            case .ikeSAFailed, .ikeSADeleted:
                report = !isBystanderHalfOpen(id, peerIndex: peerIndex)
                // §2.8.3: an old SA gone while a newer one carries the tunnel is no tunnel-down.
                let outcome = reauthenticationEnded(id, event: e, peerIndex: peerIndex, now: now)
                if outcome.carriedOn { report = false }
                // Reported too, so every child-up has its child-down (status, metrics, systemd).
                for (inbound, outbound) in (liveChildren.removeValue(forKey: id) ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let deleted = IKEEvent.childSADeleted(inboundSPI: inbound, outboundSPI: outbound)
                    apply(deleted, peer: peer.name)
                    onEvent?(peer.name, deleted)
                }
                table.markFinished(id)
                sessionStoppedBeingHalfOpen(id)
                if let replaced = outcome.report {
                    apply(replaced, peer: peer.name)
                    onEvent?(peer.name, replaced)
                }
                if peer.initiator && !shuttingDown && table.liveSessions(ofPeer: peerIndex) == 0 && reinitiateAt[peerIndex] == nil {
                    // Wait before trying again, unless the peer opens one first.
                    reinitiateAt[peerIndex] = now.adding(seconds: reinitiateDelaySeconds)
                }
            default: break
            }
            if report { onEvent?(peer.name, e) }
        }
        // After the whole batch: an IKE SA's Delete removes its Child SAs first, then itself.
        reviewChildlessTunnel(peerIndex: peerIndex, childDeleted: childDeleted, now: now)
        if saChanged { reviewDuplicates(peerIndex: peerIndex, now: now) }
    }

    // RFC 7296 §2.4: INITIAL_CONTACT means the peer holds no other IKE SA with us (it
    // restarted), so our older SAs with it are stale: their Child SAs leave the data plane now,
    // not when DPD gives up on them minutes later, and the sessions are forgotten without a
    // Delete the peer could not match anyway. Our own IKE SA still in its handshake is no older
    // SA: it crossed the peer's (both ends initiated at once), the peer may hold its responder
    // half, and it either completes (a duplicate, reduced to one later) or times out.
    private func dropStaleSessions(of peerIndex: Int, keeping id: SessionTable.SessionID, peer: String) {
        for old in table.sessionIDs(ofPeer: peerIndex, except: id)
        where reauth.spis[old] != nil || reauth.responders.contains(old) || table.sessions[old]?.finished == true {
            for (inbound, outbound) in (liveChildren.removeValue(forKey: old) ?? [:]).sorted(by: { $0.key < $1.key }) {
                let deleted = IKEEvent.childSADeleted(inboundSPI: inbound, outboundSPI: outbound)
                apply(deleted, peer: peer)
                onEvent?(peer, deleted)
            }
            sessionStoppedBeingHalfOpen(old)
            table.remove(old)
            reauth.forget(old)
            duplicates.forget(old)
            logger.info("dropped a stale IKE SA: the peer restarted", metadata: ["peer": "\(peer)"])
        }
    }

    func apply(_ event: IKEEvent, peer: String) {
        switch event {
        case .ikeSAEstablished(let spiI, let spiR, let proposal, let peerIdentity, let local, let remote):
            logger.info("IKE SA established", metadata: [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "proposal": "\(proposal)", "peer_id": "\(peerIdentity)", "local": "\(local)", "remote": "\(remote)",
            ])
        case .childSAReady(let sa):
            logger.info("child SA established", metadata: [
                "peer": "\(peer)", "spi": "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o",
                "enc": "\(AlgorithmText.encryption(sa.encryption))",
                "integ": "\(sa.integrity.map(AlgorithmText.integrity) ?? "none")",
            ])
            if sa.activateOutbound { currentOutbound[peer] = sa.inboundSPI }
            do {
                try dataplane.install(sa, peer: peer)
            } catch {
                logger.error("data plane refused the child SA", metadata: [
                    "peer": "\(peer)", "spi": "\(SPIText.child(sa.inboundSPI))_i", "reason": "\(error.message)",
                ])
            }
        case .childSADeleted(let inbound, let outbound):
            if currentOutbound[peer] == inbound { currentOutbound[peer] = nil }
            do {
                try dataplane.delete(inboundSPI: inbound, outboundSPI: outbound, peer: peer)
            } catch {
                logger.error("data plane could not delete the child SA", metadata: [
                    "peer": "\(peer)", "spi": "\(SPIText.child(inbound))_i", "reason": "\(error.message)",
                ])
            }
        case .ikeSAFailed(let f):
            var metadata: Logger.Metadata = [
                "peer": "\(peer)", "reason": "\(f.code.rawValue)", "detail": "\(f.message)",
                "by": "\(f.reportedByPeer ? "peer" : "local")",
            ]
            if let n = f.notify { metadata["notify"] = "\(NotifyName.of(n))" }
            logger.error("IKE SA failed", metadata: metadata)
        case .ikeSADeleted:
            logger.info("IKE SA deleted", metadata: ["peer": "\(peer)"])
        case .ikeSARekeyed(let spiI, let spiR, let proposal, let oldI, let oldR):
            logger.info("IKE SA rekeyed", metadata: [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "old_spi": "\(SPIText.ike(oldI))_i \(SPIText.ike(oldR))_r", "proposal": "\(proposal)",
            ])
        case .childSAOutboundActivated(let inbound, let outbound):
            currentOutbound[peer] = inbound
            do {
                try dataplane.activateOutbound(inboundSPI: inbound, outboundSPI: outbound, peer: peer)
            } catch {
                logger.error("data plane could not switch to the new child SA", metadata: [
                    "peer": "\(peer)", "spi": "\(SPIText.child(inbound))_i", "reason": "\(error.message)",
                ])
            }
        case .deadPeer(let action):
            logger.warning("peer is not answering", metadata: ["peer": "\(peer)", "action": "\(action.rawValue)"])
        case .initialContact(let identity):
            logger.info("peer sent INITIAL_CONTACT", metadata: ["peer": "\(peer)", "peer_id": "\(identity)"])
        case .reauthenticationDue:
            logger.info("IKE SA due for reauthentication", metadata: ["peer": "\(peer)"])
        case .ikeSAReauthenticated(let spiI, let spiR, let oldI, let oldR):
            logger.info("IKE SA reauthenticated", metadata: [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "old_spi": "\(SPIText.ike(oldI))_i \(SPIText.ike(oldR))_r",
            ])
        case .peerEndpointChanged(let previous, let remote, let spis):
            logger.notice("peer address changed", metadata: [
                "peer": "\(peer)", "from": "\(previous)", "to": "\(remote)", "children": "\(spis.count)",
            ])
            for spi in spis {
                do {
                    try dataplane.updatePeerEndpoint(inboundSPI: spi, peerEndpoint: remote, peer: peer)
                } catch {
                    logger.error("data plane could not follow the peer's new address", metadata: [
                        "peer": "\(peer)", "spi": "\(SPIText.child(spi))_i", "reason": "\(error.message)",
                    ])
                }
            }
        }
    }
}
