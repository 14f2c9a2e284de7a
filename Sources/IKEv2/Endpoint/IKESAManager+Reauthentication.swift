// RFC 7296 §2.8.3 (rekeying an IKE SA by reauthentication, make-before-break), §2.4
// (INITIAL_CONTACT, which a reauthenticating initiator must not send).

extension IKESAManager {
    // MARK: This end reauthenticates

    /// The engine's `reauthenticationDue`: a new IKE SA with the same peer, IKE_SA_INIT +
    /// IKE_AUTH with a Child SA for the same tunnel, and no INITIAL_CONTACT, so the peer keeps
    /// the old SA (and its Child SAs keep carrying traffic) until we delete it.
    func startReauthentication(replacing old: IKESATable.SessionID, peerIndex: Int, now: IKEInstant) {
        guard !shuttingDown, !table.retired.contains(peerIndex), reauth.pending[peerIndex] == nil,
              table.sessions[old]?.finished == false else { return }
        reauth.retries[peerIndex] = nil
        let peer = table.peers[peerIndex]
        do {
            let s = try factory.makeSession(for: peer, initiator: true, initialContact: false)
            let id = table.addSession(s, peerIndex: peerIndex)
            reauth.pending[peerIndex] = ReauthenticationBook.Pending(old: old, new: id)
            log(.info, "reauthenticating: opening a new IKE SA next to the current one", [
                "peer": "\(peer.name)", "remote": "\(peer.remote)",
            ])
            actions.append(.initiated(peer.tunnel, now))
            _ = table.withSession(id) { $0.start(now: now) }
            drain(id, now: now)
        } catch {
            retryReauthentication(of: old, peerIndex: peerIndex, now: now, reason: error.message)
        }
    }

    /// The new IKE SA's Child SA is installed and carries outbound traffic (make-before-break):
    /// only now does the old IKE SA get its Delete; its Child SAs leave the data plane when the
    /// peer answers (or when the old session gives up).
    func reauthenticationChildReady(_ id: IKESATable.SessionID, peerIndex: Int, now: IKEInstant) {
        guard let p = reauth.pending[peerIndex], p.new == id else { return }
        reauth.pending[peerIndex] = nil
        guard table.sessions[p.old]?.finished == false else { return }
        log(.info, "reauthentication: the new Child SA is installed, deleting the old IKE SA", [
            "peer": "\(table.peers[peerIndex].name)",
        ])
        duplicates.closing.insert(p.old)
        _ = table.withSession(p.old) { $0.close(now: now) }
        drain(p.old, now: now)
    }

    private func retryReauthentication(of old: IKESATable.SessionID, peerIndex: Int, now: IKEInstant, reason: String) {
        guard !shuttingDown, table.sessions[old]?.finished == false else { return }
        reauth.retries[peerIndex] = ReauthenticationBook.Retry(old: old, at: now.adding(seconds: reinitiateDelaySeconds))
        log(.warning, "reauthentication failed: the current IKE SA stays", [
            "peer": "\(table.peers[peerIndex].name)", "reason": "\(reason)", "retry_in": "\(Int(reinitiateDelaySeconds))s",
        ])
    }

    /// Session `id` failed or was deleted. Returns whether another IKE SA of the peer carries
    /// the tunnel on (then the failure is no tunnel-down for status and `viaduct events`), and
    /// what to report instead of a clean deletion: `ikeSAReauthenticated`.
    func reauthenticationEnded(_ id: IKESATable.SessionID, event: IKEEvent, peerIndex: Int,
                               now: IKEInstant) -> (carriedOn: Bool, report: IKEEvent?) {
        defer { reauth.forget(id) }
        if let p = reauth.pending[peerIndex], p.old == id || p.new == id {
            // The old SA gone first: the new one goes on as the peer's only IKE SA.
            reauth.pending[peerIndex] = nil
            if p.new == id, table.sessions[p.old]?.finished == false {
                // The new SA never came up: keep the old one, try again later (§2.8.3 leaves the
                // old SA in place until the new one works).
                var reason = "the new IKE SA was deleted"
                if case .ikeSAFailed(let f) = event { reason = f.description }
                retryReauthentication(of: p.old, peerIndex: peerIndex, now: now, reason: reason)
                return (true, nil)
            }
        }
        let successor = table.sessions
            .filter { $0.key != id && $0.value.peerIndex == peerIndex && !$0.value.finished && reauth.spis[$0.key] != nil }
            .map(\.key).max()
        guard let successor, let new = reauth.spis[successor] else { return (false, nil) }
        guard case .ikeSADeleted = event else { return (true, nil) }
        let old = reauth.spis[id] ?? (0, 0)
        return (true, .ikeSAReauthenticated(initiatorSPI: new.0, responderSPI: new.1,
                                            oldInitiatorSPI: old.0, oldResponderSPI: old.1))
    }

    // MARK: The peer reauthenticates

    /// Adjusts an event before the data plane sees it. A peer's second IKE SA (its
    /// reauthentication, without INITIAL_CONTACT) gets its Child SA installed with the outbound
    /// half idle while an older SA of the peer still has Child SAs: the peer may not have
    /// installed the new inbound SA yet (our IKE_AUTH response may be in flight), but it keeps
    /// the old one until it deletes the old IKE SA. Before any older SA loses a Child SA, the
    /// waiting one takes the outbound traffic, so the tunnel is never without an outbound SA.
    func beforeApplying(_ event: IKEEvent, session id: IKESATable.SessionID, peerIndex: Int,
                        now: IKEInstant) -> IKEEvent {
        switch event {
        case .childSAReady(var sa):
            if sa.replacesInboundSPI == nil, reauth.responders.contains(id), otherSessionCarriesTraffic(id, peerIndex: peerIndex) {
                sa.activateOutbound = false
                reauth.deferred[id] = ReauthenticationBook.DeferredOutbound(
                    inboundSPI: sa.inboundSPI, outboundSPI: sa.outboundSPI, until: now.adding(seconds: deferredOutboundSeconds))
                log(.info, "the peer opened another IKE SA: its Child SA takes outbound traffic once the old one goes", [
                    "peer": "\(table.peers[peerIndex].name)", "spi": "\(SPIText.child(sa.inboundSPI))_i",
                ])
                return .childSAReady(sa)
            }
            // A rekey of the waiting SA: the engine's own activation rules apply from here on.
            reauth.deferred[id] = nil
        case .childSAOutboundActivated:
            reauth.deferred[id] = nil
        case .childSADeleted(let inbound, _):
            if reauth.deferred[id]?.inboundSPI == inbound { reauth.deferred[id] = nil }
            if liveChildren[id]?[inbound] != nil {
                activateDeferredOutbound(peerIndex: peerIndex, except: id)
                keepOutbound(peerIndex: peerIndex, losing: inbound, of: id)
            }
        case .ikeSAFailed, .ikeSADeleted:
            reauth.deferred[id] = nil
            if !(liveChildren[id] ?? [:]).isEmpty {
                activateDeferredOutbound(peerIndex: peerIndex, except: id)
                for inbound in (liveChildren[id] ?? [:]).keys.sorted() { keepOutbound(peerIndex: peerIndex, losing: inbound, of: id) }
            }
        default:
            break
        }
        return event
    }

    private func otherSessionCarriesTraffic(_ id: IKESATable.SessionID, peerIndex: Int) -> Bool {
        !sessionsWithChildren(ofPeer: peerIndex, except: id).isEmpty
    }

    private func activateDeferredOutbound(peerIndex: Int, except id: IKESATable.SessionID) {
        for (s, d) in reauth.deferred.sorted(by: { $0.key < $1.key })
        where s != id && table.sessions[s]?.peerIndex == peerIndex {
            activate(d, of: s, peerIndex: peerIndex)
        }
    }

    func activate(_ d: ReauthenticationBook.DeferredOutbound, of id: IKESATable.SessionID, peerIndex: Int) {
        reauth.deferred[id] = nil
        let tunnel = table.peers[peerIndex].tunnel
        log(.info, "the peer's new IKE SA carries outbound traffic now", [
            "peer": "\(tunnel)", "spi": "\(SPIText.child(d.inboundSPI))_i \(SPIText.child(d.outboundSPI))_o",
        ])
        let event = IKEEvent.childSAOutboundActivated(inboundSPI: d.inboundSPI, outboundSPI: d.outboundSPI)
        apply(event, tunnel: tunnel)
        actions.append(.report(event, tunnel))
    }

    /// Retries due, and waiting Child SAs whose peer kept its old IKE SA for too long (it may
    /// have restarted without INITIAL_CONTACT): they carry outbound traffic from now on.
    func reauthenticationTimers(now: IKEInstant) {
        for (s, d) in reauth.deferred.sorted(by: { $0.key < $1.key }) where d.until <= now {
            guard let p = table.sessions[s]?.peerIndex else {
                reauth.deferred[s] = nil
                continue
            }
            activate(d, of: s, peerIndex: p)
        }
        for (p, r) in reauth.retries.sorted(by: { $0.key < $1.key }) where r.at <= now {
            reauth.retries[p] = nil
            startReauthentication(replacing: r.old, peerIndex: p, now: now)
        }
    }
}
