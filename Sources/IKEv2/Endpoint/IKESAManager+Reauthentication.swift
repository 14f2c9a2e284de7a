// RFC 7296 §2.8.3 (rekeying an IKE SA by reauthentication, make-before-break), §2.4
// (INITIAL_CONTACT, which a reauthenticating initiator must not send).
import NetTypes

extension IKESAManager {
    typealias SessionID = IKESATable.SessionID

    // MARK: This end reauthenticates

    /// The engine's `reauthenticationDue`: a new IKE SA with the same peer, IKE_SA_INIT +
    /// IKE_AUTH with a Child SA for the same tunnel, and no INITIAL_CONTACT, so the peer keeps
    /// the old SA (and its Child SAs keep carrying traffic) until we delete it.
    func startReauthentication(replacing old: SessionID, peerIndex: Int, now: IKEInstant) {
        guard !shuttingDown, !table.isRetired(peerIndex), table[peer: peerIndex].reauthentication == nil,
              table.sessions[old]?.finished == false else { return }
        table[peer: peerIndex].reauthenticationRetry = nil
        table.timers[.reauthenticationRetry(peer: peerIndex)] = nil
        let peer = table[peer: peerIndex].peer
        do {
            let s = try factory.makeSession(for: peer, initiator: true, initialContact: false)
            let id = table.addSession(s, peerIndex: peerIndex, createdHere: true)
            table[peer: peerIndex].reauthentication = IKESATable.Reauthentication(old: old, new: id)
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
    func reauthenticationChildReady(_ id: SessionID, peerIndex: Int, now: IKEInstant) {
        guard let r = table[peer: peerIndex].reauthentication, r.new == id else { return }
        table[peer: peerIndex].reauthentication = nil
        guard table.sessions[r.old]?.finished == false else { return }
        log(.info, "reauthentication: the new Child SA is installed, deleting the old IKE SA", [
            "peer": "\(table[peer: peerIndex].peer.name)",
        ])
        table.sessions[r.old]?.closing = true
        _ = table.withSession(r.old) { $0.close(now: now) }
        drain(r.old, now: now)
    }

    private func retryReauthentication(of old: SessionID, peerIndex: Int, now: IKEInstant, reason: String) {
        guard !shuttingDown, table.sessions[old]?.finished == false else { return }
        table[peer: peerIndex].reauthenticationRetry = old
        table.timers[.reauthenticationRetry(peer: peerIndex)] = now.adding(seconds: reinitiateDelaySeconds)
        log(.warning, "reauthentication failed: the current IKE SA stays", [
            "peer": "\(table[peer: peerIndex].peer.name)", "reason": "\(reason)", "retry_in": "\(Int(reinitiateDelaySeconds))s",
        ])
    }

    /// The retry timer of a failed reauthentication.
    func reauthenticationRetryDue(peerIndex p: Int, now: IKEInstant) {
        guard let old = table[peer: p].reauthenticationRetry else { return }
        table[peer: p].reauthenticationRetry = nil
        startReauthentication(replacing: old, peerIndex: p, now: now)
    }

    /// Session `id` failed or was deleted. Returns whether another IKE SA of the peer carries
    /// the tunnel on (then the failure is no tunnel-down for status and `viaduct events`), and
    /// what to report instead of a clean deletion: `ikeSAReauthenticated`.
    func reauthenticationEnded(_ id: SessionID, event: IKEEvent, peerIndex: Int,
                               now: IKEInstant) -> (carriedOn: Bool, report: IKEEvent?) {
        defer { forgetReauthentication(of: id, peerIndex: peerIndex) }
        if let r = table[peer: peerIndex].reauthentication, r.old == id || r.new == id {
            // The old SA gone first: the new one goes on as the peer's only IKE SA.
            table[peer: peerIndex].reauthentication = nil
            if r.new == id, table.sessions[r.old]?.finished == false {
                // The new SA never came up: keep the old one, try again later (§2.8.3 leaves the
                // old SA in place until the new one works).
                var reason = "the new IKE SA was deleted"
                if case .ikeSAFailed(let f) = event { reason = f.description }
                retryReauthentication(of: r.old, peerIndex: peerIndex, now: now, reason: reason)
                return (true, nil)
            }
        }
        let successor = table.sessionIDs(ofPeer: peerIndex, except: id) { !$0.finished && $0.isEstablished }.max()
        guard let successor, let new = table.sessions[successor]?.established else { return (false, nil) }
        guard case .ikeSADeleted = event else { return (true, nil) }
        let old = table.sessions[id]?.established ?? IKESATable.EstablishedSPIs(initiator: .zero, responder: .zero)
        return (true, .ikeSAReauthenticated(initiatorSPI: new.initiator, responderSPI: new.responder,
                                            oldInitiatorSPI: old.initiator, oldResponderSPI: old.responder))
    }

    /// A finished session takes no part in any reauthentication any more (it stays in the table
    /// until reaped, so its SPIs still route a late retransmission to it).
    private func forgetReauthentication(of id: SessionID, peerIndex: Int) {
        table.sessions[id]?.established = nil
        table.sessions[id]?.deferredOutbound = nil
        table.timers[.deferredOutbound(session: id)] = nil
        if let r = table[peer: peerIndex].reauthentication, r.old == id || r.new == id {
            table[peer: peerIndex].reauthentication = nil
        }
        if table[peer: peerIndex].reauthenticationRetry == id {
            table[peer: peerIndex].reauthenticationRetry = nil
            table.timers[.reauthenticationRetry(peer: peerIndex)] = nil
        }
    }

    // MARK: The peer reauthenticates

    /// Adjusts an event before the data plane sees it. A peer's second IKE SA (its
    /// reauthentication, without INITIAL_CONTACT) gets its Child SA installed with the outbound
    /// half idle while an older SA of the peer still has Child SAs: the peer may not have
    /// installed the new inbound SA yet (our IKE_AUTH response may be in flight), but it keeps
    /// the old one until it deletes the old IKE SA. Before any older SA loses a Child SA, the
    /// waiting one takes the outbound traffic, so the tunnel is never without an outbound SA.
    /// An IKE SA this end is deleting (the old one of our reauthentication, a duplicate's
    /// loser) never takes the outbound traffic back from the IKE SA that carries the tunnel: a
    /// Child SA rekey that completes on it meanwhile is installed with the outbound half idle,
    /// and its activation is dropped (nil), since the peer deletes it with that IKE SA.
    func beforeApplying(_ event: IKEEvent, session id: SessionID, peerIndex: Int, now: IKEInstant) -> IKEEvent? {
        switch event {
        case .childSAReady(var sa) where sa.activateOutbound && outboundCarriedElsewhere(than: id, peerIndex: peerIndex):
            sa.activateOutbound = false
            log(.info, "a Child SA rekeyed on an IKE SA being deleted does not take outbound traffic: another IKE SA carries the tunnel", [
                "peer": "\(table[peer: peerIndex].peer.name)", "spi": "\(SPIText.child(sa.inboundSPI))_i",
            ])
            return .childSAReady(sa)
        case .childSAOutboundActivated where outboundCarriedElsewhere(than: id, peerIndex: peerIndex):
            setDeferredOutbound(nil, of: id)
            return nil
        case .childSAReady(var sa):
            if sa.replacesInboundSPI == nil, table.sessions[id]?.createdHere == false,
               !sessionsWithChildren(ofPeer: peerIndex, except: id).isEmpty {
                sa.activateOutbound = false
                setDeferredOutbound(IKESATable.ChildSPIs(inbound: sa.inboundSPI, outbound: sa.outboundSPI), of: id,
                                    until: now.adding(seconds: deferredOutboundSeconds))
                log(.info, "the peer opened another IKE SA: its Child SA takes outbound traffic once the old one goes", [
                    "peer": "\(table[peer: peerIndex].peer.name)", "spi": "\(SPIText.child(sa.inboundSPI))_i",
                ])
                return .childSAReady(sa)
            }
            // A rekey of the waiting SA: the engine's own activation rules apply from here on.
            setDeferredOutbound(nil, of: id)
        case .childSAOutboundActivated:
            setDeferredOutbound(nil, of: id)
        case .childSADeleted(let inbound, _):
            if table.sessions[id]?.deferredOutbound?.inbound == inbound { setDeferredOutbound(nil, of: id) }
            if table.sessions[id]?.children[inbound] != nil {
                activateDeferredOutbound(peerIndex: peerIndex, except: id)
                keepOutbound(peerIndex: peerIndex, losing: inbound, of: id)
            }
        case .ikeSAFailed, .ikeSADeleted:
            setDeferredOutbound(nil, of: id)
            let children = table.sessions[id]?.children ?? [:]
            if !children.isEmpty {
                activateDeferredOutbound(peerIndex: peerIndex, except: id)
                for inbound in children.keys.sorted() { keepOutbound(peerIndex: peerIndex, losing: inbound, of: id) }
            }
        default:
            break
        }
        return event
    }

    /// Session `id` is being deleted by this end and another live IKE SA's Child SA carries the
    /// tunnel's outbound traffic.
    private func outboundCarriedElsewhere(than id: SessionID, peerIndex: Int) -> Bool {
        guard table.sessions[id]?.closing == true, let current = table[peer: peerIndex].currentOutbound else { return false }
        return sessionsWithChildren(ofPeer: peerIndex, except: id).contains { table.sessions[$0]?.children[current] != nil }
    }

    /// The peer's unfinished sessions (other than `id`) with a Child SA in the data plane, in
    /// session order: the IKE SAs that carry the tunnel.
    func sessionsWithChildren(ofPeer p: Int, except id: SessionID? = nil) -> [SessionID] {
        table.sessionIDs(ofPeer: p, except: id) { !$0.finished && !$0.children.isEmpty }
    }

    func setDeferredOutbound(_ spis: IKESATable.ChildSPIs?, of id: SessionID, until: IKEInstant? = nil) {
        table.sessions[id]?.deferredOutbound = spis
        table.timers[.deferredOutbound(session: id)] = spis == nil ? nil : until
    }

    private func activateDeferredOutbound(peerIndex: Int, except id: SessionID) {
        for s in table.sessionIDs(ofPeer: peerIndex, except: id, where: { $0.deferredOutbound != nil }) {
            activateDeferred(of: s)
        }
    }

    /// The deferred Child SA of session `id` carries outbound traffic now.
    func activateDeferred(of id: SessionID) {
        guard let e = table.sessions[id], let d = e.deferredOutbound else { return }
        setDeferredOutbound(nil, of: id)
        let tunnel = table[peer: e.peerIndex].peer.tunnel
        log(.info, "the peer's new IKE SA carries outbound traffic now", [
            "peer": "\(tunnel)", "spi": "\(SPIText.child(d.inbound))_i \(SPIText.child(d.outbound))_o",
        ])
        let event = IKEEvent.childSAOutboundActivated(inboundSPI: d.inbound, outboundSPI: d.outbound)
        apply(event, peerIndex: e.peerIndex)
        actions.append(.report(event, tunnel))
    }

    /// The waiting Child SA of a peer that kept its old IKE SA for too long (it may have
    /// restarted without INITIAL_CONTACT): it carries outbound traffic from now on.
    func deferredOutboundDue(_ id: SessionID) {
        activateDeferred(of: id)
    }
}
