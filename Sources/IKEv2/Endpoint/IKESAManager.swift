// RFC 7296 §2.1 (retransmission belongs to each IKE SA), §2.4 (INITIAL_CONTACT), §2.6
// (responder SPIs and cookies, with RFC 8019 admission), §2.8/§2.8.3 (rekeying and
// reauthentication: several IKE SAs with one peer, make-before-break), §1.4.1 (a Delete takes
// the Child SAs with it).
import NetTypes

/// The peer level of IKE, sans I/O (quinn's `Endpoint`, strongSwan's IKE SA manager): owns
/// every IKE SA of the node in one table, routes each datagram to its IKE SA by SPI (creating a
/// responder for a configured peer's new IKE_SA_INIT, behind the admission gate), fires
/// deadlines, re-initiates failed initiator SAs after a pause, reauthenticates, reduces
/// duplicate IKE SAs, and turns the sessions' events into actions. It reads no clock and
/// touches no socket, data plane or log: it is fed datagrams and time, and returns what to
/// send (`takeOutgoing`), what to do (`takeActions`) and when to call again (`nextDeadline`).
/// The daemon performs; tests assert on what it returned. One owner calls it.
public final class IKESAManager {
    public internal(set) var counters = IKEEndpointCounters()
    /// Every IKE SA, every peer and the endpoint's timers (IKESATable.swift).
    var table = IKESATable()
    var outbox: [IKEDatagram] = []
    /// What the owner is to do, in order (`takeActions`).
    var actions: [IKEEndpointAction] = []
    /// Makes every new session; `viaduct apply` replaces it (new plan, reloaded credentials).
    /// Sessions already made keep what they were made with.
    public var factory: any IKESessionFactory
    /// Log records below this level are not built.
    public var logLevel: IKELogRecord.Level
    /// Which drops from unknown sources are logged as notices (rate-limited).
    var unknownSources = UnknownSourceNotices()
    /// Set by `closeAll`: nothing is initiated any more.
    private(set) var shuttingDown = false
    /// Pause before an initiator opens a new IKE SA after the previous one failed or was deleted.
    public var reinitiateDelaySeconds: Double
    /// Decides which new IKE_SA_INIT requests get a responder session (nil: all of them); the
    /// sessions hold their tickets until they stop being half-open (IKESAManager+Admission.swift).
    var admission: IKEAdmissionGate?
    /// How long a peer's new IKE SA (its reauthentication) may wait for the peer to delete the
    /// old one before its Child SA carries our outbound traffic anyway.
    public var deferredOutboundSeconds: Double = 10
    /// How long two established IKE SAs of one peer, both with Child SAs and neither part of our
    /// reauthentication, may coexist before they are reduced to one: long enough for a peer's
    /// own reauthentication to delete its old SA first.
    public var duplicateGraceSeconds: Double = 30

    public init(factory: any IKESessionFactory, logLevel: IKELogRecord.Level = .info,
                reinitiateDelaySeconds: Double = 30, admission: IKEAdmissionGate? = nil) {
        self.factory = factory
        self.logLevel = logLevel
        self.reinitiateDelaySeconds = reinitiateDelaySeconds
        self.admission = admission
    }

    /// Queues a log record when its level is wanted; the message and context are built only then.
    func log(_ level: IKELogRecord.Level, _ message: @autoclosure () -> String,
             _ metadata: @autoclosure () -> [String: String] = [:]) {
        guard level >= logLevel else { return }
        actions.append(.log(IKELogRecord(level, message(), metadata())))
    }

    /// Everything the owner is to do since the last call, in order; empties the queue.
    public func takeActions() -> [IKEEndpointAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    // MARK: Peers

    /// The configured peers (removed ones excluded), in the order they were added.
    public var peers: [IKETunnelPeer] { table.livePeerIndices.map { table[peer: $0].peer } }
    public var liveSessionCount: Int { table.sessions.values.filter { !$0.finished }.count }
    /// IKE SAs a rekey replaced (or made redundant), kept for their Delete (RFC 7296 §2.18).
    public var retiredIKESACount: Int { table.retiredCount }

    public func add(peer: IKETunnelPeer) {
        _ = table.addPeer(peer)
    }

    /// Initiator peers open their IKE SA; responder peers wait for theirs.
    public func start(now: IKEInstant) {
        for i in table.livePeerIndices { begin(peerIndex: i, now: now) }
    }

    private func begin(peerIndex i: Int, now: IKEInstant) {
        let p = table[peer: i].peer
        log(.info, "peer configured", [
            "peer": "\(p.name)", "role": "\(p.initiator ? "initiator" : "responder")",
            "local": "\(p.local)", "remote": "\(p.remote)",
        ])
        if p.initiator { initiate(peerIndex: i, now: now) }
    }

    /// A peer added to a running daemon (`viaduct apply`): configured and, if this end
    /// initiates, its IKE SA opened at once.
    public func addRunning(peer: IKETunnelPeer, now: IKEInstant) {
        begin(peerIndex: table.addPeer(peer), now: now)
    }

    /// A peer removed from a running daemon (`viaduct apply`): each of its IKE SAs is deleted
    /// (one INFORMATIONAL Delete), its sessions are dropped and every Child SA they installed
    /// leaves the data plane first, so nothing of the peer is left for the kernel reconcile that
    /// follows. Returns false for an unknown peer.
    @discardableResult
    public func removeRunning(_ tunnel: TunnelID, now: IKEInstant) -> Bool {
        guard let i = table.peerIndex(of: tunnel) else { return false }
        let peerSessions = table.sessionIDs(ofPeer: i) { $0.successor == nil }
        for id in peerSessions {
            // One Delete of the IKE SA (RFC 7296 §1.4.1), so the peer drops it now rather than
            // after its liveness checks; the session is forgotten, so it is not retransmitted.
            if table.sessions[id]?.finished == false {
                _ = table.withSession(id) { $0.close(now: now) }
                while let d = table.withSession(id, { $0.pollTransmit() }) ?? nil { outbox.append(d) }
            }
            sessionStoppedBeingHalfOpen(id)
            removeChildren(of: id)
        }
        forgotten(table.retirePeer(i))
        log(.info, "peer removed", ["peer": "\(tunnel)", "sessions": "\(peerSessions.count)"])
        return true
    }

    func initiate(peerIndex i: Int, now: IKEInstant) {
        let peer = table[peer: i].peer
        table.timers[.reinitiate(peer: i)] = nil
        do {
            let s = try factory.makeSession(for: peer, initiator: true)
            // A peer known by name: the factory resolved it anew for this IKE SA (daemon's
            // PeerNameResolver); answers come from where the session sends.
            if !peer.dynamic, let remote = s.peerEndpoint, remote != peer.remote {
                updateAddresses(of: peer.tunnel, addresses: [remote.address], remote: remote)
            }
            let id = table.addSession(s, peerIndex: i, createdHere: true)
            log(.info, "initiating IKE SA", ["peer": "\(peer.name)", "remote": "\(peer.remote)"])
            actions.append(.initiated(peer.tunnel, now))
            _ = table.withSession(id) { $0.start(now: now) }
            drain(id, now: now)
        } catch where error.waiting {
            log(.info, "IKE SA waits", ["peer": "\(peer.name)", "reason": "\(error.message)"])
            table.timers[.reinitiate(peer: i)] = now.adding(seconds: reinitiateDelaySeconds)
        } catch {
            log(.error, "cannot create IKE session", ["peer": "\(peer.name)", "reason": "\(error.message)"])
            // Status and events say why the tunnel does not come up (e.g. its peer's name does
            // not resolve); it is tried again after the pause.
            actions.append(.report(.ikeSAFailed(IKEFailure(.other, "cannot create IKE session: \(error.message)")), peer.tunnel))
            table.timers[.reinitiate(peer: i)] = now.adding(seconds: reinitiateDelaySeconds)
        }
    }

    // MARK: Datagrams

    /// What arrived on an IKE port that is not an IKE message (RFC 3948: ESP in UDP and
    /// NAT-keepalives share port 4500); counted, nothing else.
    public enum NonIKEDatagram: Sendable {
        case espOnNATTPort
        case natKeepalive
        case malformed
    }

    public func noteReceived(_ kind: NonIKEDatagram) {
        counters.datagramsReceived += 1
        switch kind {
        case .espOnNATTPort: counters.espOnNATTPort += 1
        case .natKeepalive: counters.natKeepalives += 1
        case .malformed: counters.malformed += 1
        }
    }

    /// One IKE datagram from the peer (the non-ESP marker already stripped).
    public func receive(_ datagram: IKEDatagram, now: IKEInstant) {
        counters.datagramsReceived += 1
        // The one decode of the header on the way in (RFC 7296 §3.1); only IKEv2 is routed.
        guard let header = try? IKEHeader(decoding: datagram.bytes), header.majorVersion == IKEHeader.majorVersion2 else {
            counters.malformed += 1
            log(.debug, "dropped datagram: not an IKEv2 message", [
                "from": "\(datagram.source)", "bytes": "\(datagram.bytes.count)", "reason": "malformed",
            ])
            return
        }
        if logLevel <= .debug, let r = IKEFragmentLog.received(datagram) { actions.append(.log(r)) }
        switch table.route(header, from: datagram.source.address) {
        case .session(let id):
            _ = table.withSession(id) { $0.receive(datagram, header: header, now: now) }
            drain(id, now: now)
        case .newSA(let peerIndex):
            let peer = table[peer: peerIndex].peer
            openResponder(datagram, header: header, now: now, peerIndex: peerIndex, name: peer.name,
                          message: "IKE SA requested by peer", metadata: ["peer": "\(peer.name)"]) { () throws(IKESessionFactoryError) in
                try factory.makeSession(for: peer, initiator: false)
            }
        case .newDynamicSA:
            receiveDynamic(datagram, header: header, now: now)
        case .unknownPeer:
            counters.unknownPeer += 1
            let metadata: [String: String] = [
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(header.initiatorSPI))_i",
                "exchange": "\(header.exchangeType)", "reason": "unknown-peer",
            ]
            if unknownSources.shouldLog(source: datagram.source.address, now: now) {
                // A peer whose underlay address is not the one the topology names shows up here.
                let held = unknownSources.takeSuppressed()
                log(.notice, "IKE from an address that is no configured peer: dropped (check the peer's underlay address or NAT)",
                    held > 0 ? metadata.merging(["suppressed_since_last": "\(held)"]) { a, _ in a } : metadata)
            } else {
                log(.debug, "dropped datagram from an unknown peer", metadata)
            }
        case .unknownSPI:
            counters.unknownSPI += 1
            log(.debug, "dropped datagram for an unknown IKE SA", [
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(header.initiatorSPI))_i \(SPIText.ike(header.responderSPI))_r",
                "reason": "unknown-spi",
            ])
        }
    }

    // MARK: Commands

    /// An operator's command for one peer's tunnel, applied to each of its live sessions;
    /// nil when at least one took it, otherwise why not (unknown peer, nothing established).
    public func perform(_ command: SessionCommand, tunnel: TunnelID, now: IKEInstant) -> String? {
        let name = tunnel.peer
        guard let index = table.peers.firstIndex(where: { $0.peer.tunnel == tunnel }) else {
            return "no tunnel to '\(name)' on this node (peers: \(table.peers.map(\.peer.name).joined(separator: ", ")))"
        }
        let live = table.sessionIDs(ofPeer: index) { !$0.finished }
        var done = false
        for id in live {
            if table.withSession(id, { $0.perform(command, now: now) }) == true { done = true }
            drain(id, now: now)
        }
        log(.info, "operator command", ["peer": "\(name)", "command": "\(command.rawValue)", "applied": "\(done)"])
        return done ? nil : "the tunnel to '\(name)' has no established \(command == .rekeyChild || command == .deleteChild ? "Child SA" : "IKE SA")"
    }

    /// Shutdown: asks every live session to delete its IKE SA; returns how many are live. The
    /// answers (or timeouts) finish them as usual, and no peer is re-initiated afterwards.
    public func closeAll(now: IKEInstant) -> Int {
        shuttingDown = true
        table.timers.removeAll { $0.peer != nil }
        for p in table.peers.indices { table[peer: p].peerLosers = [:] }
        for (id, e) in table.sessions where e.closing { table.sessions[id]?.closing = false }
        let live = table.sessions.filter { !$0.value.finished }.map(\.key).sorted()
        for id in live {
            _ = table.withSession(id) { $0.close(now: now) }
            drain(id, now: now)
        }
        return liveSessionCount
    }

    // MARK: Time

    /// Calls `timeout(now:)` on every session whose deadline has passed, fires the endpoint's
    /// own timers that are due (in `IKEEndpointTimer` order), and forgets finished sessions.
    public func fireTimers(now: IKEInstant) {
        for (id, entry) in table.sessions {
            guard let d = entry.session.nextDeadline, d <= now else { continue }
            _ = table.withSession(id) { $0.timeout(now: now) }
            drain(id, now: now)
        }
        for timer in table.timers.due(at: now) {
            // An earlier one may have moved or cancelled it.
            guard let at = table.timers[timer], at <= now else { continue }
            table.timers[timer] = nil
            switch timer {
            case .reinitiate(let p): initiate(peerIndex: p, now: now)
            case .deferredOutbound(let s): deferredOutboundDue(s)
            case .reauthenticationRetry(let p): reauthenticationRetryDue(peerIndex: p, now: now)
            case .recreateChild(let p): recreateChild(peerIndex: p, now: now)
            case .duplicateCheck(let p): reduceDuplicates(peerIndex: p, now: now)
            }
        }
        let reaped = table.reapable
        for id in reaped { sessionStoppedBeingHalfOpen(id) }
        forgotten(table.forget(reaped))
    }

    /// The earliest deadline of any session or of the endpoint's own timers.
    public var nextDeadline: IKEInstant? {
        (table.sessions.values.compactMap(\.session.nextDeadline) + [table.timers.next].compactMap { $0 }).min()
    }

    /// Everything the sessions want sent, in order; empties the queue.
    public func takeOutgoing() -> [IKEDatagram] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    public func noteSent() { counters.datagramsSent += 1 }

    /// The owner could not send `datagram` (the socket's error in `reason`).
    public func noteSendFailure(_ datagram: IKEDatagram, reason: String) {
        counters.sendErrors += 1
        log(.warning, "send failed", [
            "peer": "\(peerName(for: datagram.destination.address))", "reason": "\(reason)",
        ])
    }

    /// The owner could not read a socket (the error in `reason`).
    public func noteReceiveFailure(reason: String) {
        counters.receiveErrors += 1
        log(.warning, "receive failed", ["reason": "\(reason)"])
    }

    private func peerName(for address: [UInt8]) -> String {
        peers.first { $0.addresses.contains(address) }?.name ?? "?"
    }

    // MARK: Sessions' events

    func drain(_ id: IKESATable.SessionID, now: IKEInstant) {
        // IKE SAs it retired first: what they carry (our Delete of the old SA) was made before
        // anything the session queued on the new one.
        adoptRetired(from: id, now: now)
        flushTransmit(id)
        if let spis = table.sessions[id]?.session.localIKESPIs { table.sync(spis: spis, of: id) }
        if table.sessions[id]?.successor != nil {
            relay(from: id, now: now)
            return
        }
        guard identified(id, now: now), let peerIndex = table.sessions[id]?.peerIndex else { return }
        let peer = table[peer: peerIndex].peer
        var childDeleted = false
        var saChanged = false
        while let polled = table.withSession(id, { $0.pollEvent() }) ?? nil {
            // §2.8.3: a peer's new IKE SA may have to wait before it carries outbound traffic,
            // and must carry it before any older SA of the peer loses a Child SA.
            guard let e = beforeApplying(polled, session: id, peerIndex: peerIndex, now: now) else { continue }
            apply(e, peerIndex: peerIndex)
            var report = true
            switch e {
            case .ikeSAEstablished, .ikeSARekeyed, .childSAReady, .childSADeleted, .initialContact, .ikeSAFailed, .ikeSADeleted:
                saChanged = true
            default: break
            }
            switch e {
            case .ikeSAEstablished(let spiI, let spiR, _, _, _, _):
                table.timers[.reinitiate(peer: peerIndex)] = nil
                table.sessions[id]?.established = IKESATable.EstablishedSPIs(initiator: spiI, responder: spiR)
                sessionStoppedBeingHalfOpen(id)
            case .ikeSARekeyed(let spiI, let spiR, _, _, _):
                table.sessions[id]?.established = IKESATable.EstablishedSPIs(initiator: spiI, responder: spiR)
            case .childSAReady(let sa):
                table.sessions[id]?.children[sa.inboundSPI] = sa.outboundSPI
                reauthenticationChildReady(id, peerIndex: peerIndex, now: now)
            case .childSADeleted(let inbound, _):
                table.sessions[id]?.children[inbound] = nil
                childDeleted = true
            case .initialContact:
                dropStaleSessions(of: peerIndex, keeping: id)
            case .reauthenticationDue:
                startReauthentication(replacing: id, peerIndex: peerIndex, now: now)
            case .ikeSAFailed, .ikeSADeleted:
                // Its retired SAs end with it (§1.4.1: nothing of a deleted IKE SA is kept).
                forgotten(table.forget(table.retired(of: id)))
                report = !isBystanderHalfOpen(id, peerIndex: peerIndex)
                // §2.8.3: an old SA gone while a newer one carries the tunnel is no tunnel-down.
                let outcome = reauthenticationEnded(id, event: e, peerIndex: peerIndex, now: now)
                if outcome.carriedOn { report = false }
                removeChildren(of: id)
                table.sessions[id]?.finished = true
                sessionStoppedBeingHalfOpen(id)
                if let replaced = outcome.report {
                    apply(replaced, peerIndex: peerIndex)
                    actions.append(.report(replaced, peer.tunnel))
                }
                if peer.initiator && !shuttingDown && table.liveSessions(ofPeer: peerIndex) == 0
                    && table.timers[.reinitiate(peer: peerIndex)] == nil {
                    // Wait before trying again, unless the peer opens one first.
                    table.timers[.reinitiate(peer: peerIndex)] = now.adding(seconds: reinitiateDelaySeconds)
                }
            default: break
            }
            if report { actions.append(.report(e, peer.tunnel)) }
        }
        // After the whole batch: an IKE SA's Delete removes its Child SAs first, then itself.
        reviewChildlessTunnel(peerIndex: peerIndex, childDeleted: childDeleted, now: now)
        if saChanged { reviewDuplicates(peerIndex: peerIndex, now: now) }
    }

    /// RFC 7296 §1.2, RFC 8019: a peer's first IKE_SA_INIT. Admission first (per source), then
    /// a responder session filed under `peerIndex` as half-open, fed the request. `provisional`:
    /// a dynamic peers' session, filed under its own peer once IKE_AUTH names it.
    func openResponder(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant, peerIndex: Int, name: String,
                       provisional: Bool = false, message: String, metadata: [String: String],
                       make: () throws(IKESessionFactoryError) -> any IKESessionDriving) {
        guard case .proceed(let ticket) = admit(datagram, peer: name, now: now) else { return }
        do {
            let s = try make()
            let key = IKESATable.HalfOpenKey(address: datagram.source.address, initiatorSPI: header.initiatorSPI)
            let id = table.addSession(s, peerIndex: peerIndex, createdHere: false, halfOpen: key)
            table.sessions[id]?.admissionTicket = ticket
            table.sessions[id]?.provisional = provisional
            log(.info, message, metadata.merging([
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(header.initiatorSPI))_i",
            ]) { a, _ in a })
            _ = table.withSession(id) { $0.receive(datagram, header: header, now: now) }
            drain(id, now: now)
        } catch {
            if let ticket { unusedTicket(ticket) }
            log(.error, "cannot create IKE session", ["peer": name, "from": "\(datagram.source)", "reason": "\(error.message)"])
        }
    }

    func flushTransmit(_ id: IKESATable.SessionID) {
        while let d = table.withSession(id, { $0.pollTransmit() }) ?? nil {
            if d.isNATKeepalive {
                counters.natKeepalivesSent += 1
            } else if logLevel <= .debug, let r = IKEFragmentLog.sent(d) {
                actions.append(.log(r))
            }
            outbox.append(d)
        }
    }

    /// RFC 7296 §2.18, §2.8.2: the IKE SAs a session (or a side SA, for a redundant SA its late
    /// rekey answer made) no longer uses become entries of their own, at most
    /// `IKESideSA.maxPerIKESA` per session, the oldest deleted ones forgotten first.
    private func adoptRetired(from id: IKESATable.SessionID, now: IKEInstant) {
        guard let entry = table.sessions[id] else { return }
        let successor = entry.successor ?? id
        while let side = table.withSession(id, { $0.pollRetired() }) ?? nil {
            guard let sideID = table.addRetired(side, successor: successor) else { return }
            flushTransmit(sideID)
            let siblings = table.retired(of: successor)
            if siblings.count > IKESideSA.maxPerIKESA {
                let closed = siblings.first { table.withSide($0, { $0.closed }) == true }
                forgotten(table.forget([closed ?? siblings[0]]))
            }
        }
    }

    /// What a retired side SA heard goes to the session it belonged to; a Delete of Child SAs
    /// there is answered with what that session removed.
    private func relay(from id: IKESATable.SessionID, now: IKEInstant) {
        while let relay = table.withSide(id, { $0.pollRelay() }) ?? nil {
            guard let successor = table.sessions[id]?.successor else { return }
            let ours = table.withSession(successor) { $0.relayed(relay, now: now) } ?? []
            if case .childDeletes = relay {
                table.withSide(id) { $0.answerChildDeletes(ours) }
                flushTransmit(id)
            }
            drain(successor, now: now)
        }
    }

    /// RFC 7296 §1.4.1: the Child SAs of an IKE SA that is gone (deleted, failed, stale, its
    /// peer removed) leave the data plane with it, and each is reported, so every child-up has
    /// its child-down (status, metrics, systemd).
    func removeChildren(of id: IKESATable.SessionID) {
        guard let peerIndex = table.sessions[id]?.peerIndex else { return }
        let tunnel = table[peer: peerIndex].peer.tunnel
        let children = table.sessions[id]?.children ?? [:]
        table.sessions[id]?.children = [:]
        for (inbound, outbound) in children.sorted(by: { $0.key < $1.key }) {
            let deleted = IKEEvent.childSADeleted(inboundSPI: inbound, outboundSPI: outbound)
            apply(deleted, peerIndex: peerIndex)
            actions.append(.report(deleted, tunnel))
        }
    }

    // RFC 7296 §2.4: INITIAL_CONTACT means the peer holds no other IKE SA with us (it
    // restarted), so our older SAs with it are stale: their Child SAs leave the data plane now,
    // not when DPD gives up on them minutes later, and the sessions are forgotten without a
    // Delete the peer could not match anyway. Our own IKE SA still in its handshake is no older
    // SA: it crossed the peer's (both ends initiated at once), the peer may hold its responder
    // half, and it either completes (a duplicate, reduced to one later) or times out.
    private func dropStaleSessions(of peerIndex: Int, keeping id: IKESATable.SessionID) {
        let tunnel = table[peer: peerIndex].peer.tunnel
        for old in table.sessionIDs(ofPeer: peerIndex, except: id, where: { $0.isEstablished || !$0.createdHere || $0.finished }) {
            removeChildren(of: old)
            sessionStoppedBeingHalfOpen(old)
            forgotten(table.forget([old]))
            log(.info, "dropped a stale IKE SA: the peer restarted", ["peer": "\(tunnel)"])
        }
    }

    /// The log line of an event and what the data plane must do about it.
    func apply(_ event: IKEEvent, peerIndex: Int) {
        let peer = table[peer: peerIndex].peer.tunnel
        switch event {
        case .ikeSAEstablished(let spiI, let spiR, let proposal, let peerIdentity, let local, let remote):
            log(.info, "IKE SA established", [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "proposal": "\(proposal)", "peer_id": "\(peerIdentity)", "local": "\(local)", "remote": "\(remote)",
            ])
        case .childSAReady(let sa):
            log(.info, "child SA established", [
                "peer": "\(peer)", "spi": "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o",
                "enc": "\(AlgorithmText.encryption(sa.encryption))",
                "integ": "\(sa.integrity.map(AlgorithmText.integrity) ?? "none")",
            ])
            if sa.activateOutbound { table[peer: peerIndex].currentOutbound = sa.inboundSPI }
            actions.append(.installChildSA(sa, peer))
        case .childSADeleted(let inbound, let outbound):
            if table[peer: peerIndex].currentOutbound == inbound { table[peer: peerIndex].currentOutbound = nil }
            actions.append(.deleteChildSA(inboundSPI: inbound, outboundSPI: outbound, peer))
        case .ikeSAFailed(let f):
            var metadata: [String: String] = [
                "peer": "\(peer)", "reason": "\(f.code.rawValue)", "detail": "\(f.message)",
                "by": "\(f.reportedByPeer ? "peer" : "local")",
            ]
            if let n = f.notify { metadata["notify"] = "\(NotifyName.of(n))" }
            log(.error, "IKE SA failed", metadata)
        case .ikeSADeleted:
            log(.info, "IKE SA deleted", ["peer": "\(peer)"])
        case .ikeSARekeyed(let spiI, let spiR, let proposal, let oldI, let oldR):
            log(.info, "IKE SA rekeyed", [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "old_spi": "\(SPIText.ike(oldI))_i \(SPIText.ike(oldR))_r", "proposal": "\(proposal)",
            ])
        case .childSAOutboundActivated(let inbound, let outbound):
            table[peer: peerIndex].currentOutbound = inbound
            actions.append(.activateOutbound(inboundSPI: inbound, outboundSPI: outbound, peer))
        case .deadPeer(let action):
            log(.warning, "peer is not answering", ["peer": "\(peer)", "action": "\(action.rawValue)"])
        case .initialContact(let identity):
            log(.info, "peer sent INITIAL_CONTACT", ["peer": "\(peer)", "peer_id": "\(identity)"])
        case .reauthenticationDue:
            log(.info, "IKE SA due for reauthentication", ["peer": "\(peer)"])
        case .ikeSAReauthenticated(let spiI, let spiR, let oldI, let oldR):
            log(.info, "IKE SA reauthenticated", [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "old_spi": "\(SPIText.ike(oldI))_i \(SPIText.ike(oldR))_r",
            ])
        case .childSARefused(let reason, let notify):
            log(.notice, "refused the peer's new Child SA", [
                "peer": "\(peer)", "notify": "\(NotifyName.of(notify))", "reason": "\(reason)",
            ])
        case .peerEndpointChanged(let previous, let remote, let spis):
            log(.notice, "peer address changed", [
                "peer": "\(peer)", "from": "\(previous)", "to": "\(remote)", "children": "\(spis.count)",
            ])
            actions.append(.followPeerEndpoint(inboundSPIs: spis, remote, peer))
        }
    }
}

// MARK: Reading the table (status, tests)

/// What the endpoint holds for one IKE SA.
public struct IKESAView: Hashable, Sendable {
    public var tunnel: TunnelID
    /// This end sent its IKE_SA_INIT.
    public var createdHere: Bool
    /// It failed or was deleted and waits to be reaped.
    public var finished: Bool
    /// (initiator SPI, responder SPI) once established.
    public var spis: [IKESPI]?
    /// Child SAs it has in the data plane.
    public var children: Int
}

extension IKESAManager {
    /// Every IKE SA in the table that is (or was) its tunnel's, oldest first; the side SAs
    /// rekeys retired are counted in `retiredIKESACount`.
    public var ikeSAs: [IKESAView] {
        table.sessions.keys.sorted().compactMap { id in
            guard let e = table.sessions[id], e.successor == nil, !e.provisional else { return nil }
            return IKESAView(tunnel: table[peer: e.peerIndex].peer.tunnel, createdHere: e.createdHere, finished: e.finished,
                             spis: e.established.map { [$0.initiator, $0.responder] }, children: e.children.count)
        }
    }

    /// Tunnels that lost their last Child SA and when the endpoint builds each again.
    public var childRecreations: [TunnelID: IKEInstant] {
        var out: [TunnelID: IKEInstant] = [:]
        for p in table.peers.indices {
            if let at = table.timers[.recreateChild(peer: p)] { out[table[peer: p].peer.tunnel] = at }
        }
        return out
    }
}
