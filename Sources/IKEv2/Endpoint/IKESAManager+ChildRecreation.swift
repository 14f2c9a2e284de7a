// RFC 7296 §1.4.1 (deleting a Child SA leaves its IKE SA up, with nothing to carry traffic)
// and §2.8.3 (a new IKE SA with its Child SA, then the old one deleted: make-before-break).
import NetTypes

extension IKESAManager {
    /// Called at the end of every `drain` of one of the peer's sessions. A route-based tunnel is
    /// meant to be always up: when its last Child SA was deleted (by the peer's Delete or
    /// `viaduct terminate --child`) while an IKE SA lives on, it is built again through a
    /// reauthentication (a new IKE SA with its Child SA). The topology's initiator acts after
    /// `reinitiateDelaySeconds`; the responder gives its peer twice that to create the Child SA
    /// again inside the IKE SA (RFC 7296 §1.3.1, which the engine accepts: strongSwan's trap,
    /// DPD and close actions do so) and then acts itself, so the two ends never race. A Child
    /// SA appearing meanwhile (the peer rebuilt the tunnel first), the IKE SA going
    /// (re-initiation takes over), a removed peer or a shutdown cancel it.
    func reviewChildlessTunnel(peerIndex p: Int, childDeleted: Bool, now: IKEInstant) {
        let name = table[peer: p].peer.name
        if table.timers[.recreateChild(peer: p)] != nil {
            guard let reason = recreationCancelReason(peerIndex: p) else { return }
            table.timers[.recreateChild(peer: p)] = nil
            log(.info, "tunnel re-establishment cancelled", ["peer": "\(name)", "reason": "\(reason)"])
            return
        }
        guard childDeleted, recreationCancelReason(peerIndex: p) == nil else { return }
        let delay = childRecreationDelaySeconds(initiator: table[peer: p].peer.initiator)
        table.timers[.recreateChild(peer: p)] = now.adding(seconds: delay)
        log(.notice, "tunnel has no Child SA left: re-establishing in \(Self.seconds(delay))"
            + (table[peer: p].peer.initiator ? "" : " unless the peer creates it first"), [
            "peer": "\(name)", "remote": "\(table[peer: p].peer.remote)",
        ])
    }

    /// How long a childless tunnel waits before this end rebuilds it: the initiator goes first.
    func childRecreationDelaySeconds(initiator: Bool) -> Double {
        initiator ? reinitiateDelaySeconds : 2 * reinitiateDelaySeconds
    }

    /// A re-establishment whose pause is over: a new IKE SA with a Child SA replaces the peer's
    /// newest established IKE SA, which is deleted once the new Child SA is installed. A failed
    /// attempt is retried by the reauthentication's own retry while the old IKE SA lives.
    func recreateChild(peerIndex p: Int, now: IKEInstant) {
        guard recreationCancelReason(peerIndex: p) == nil, let old = establishedSessions(ofPeer: p).last else { return }
        log(.notice, "re-establishing the tunnel: a new IKE SA with a Child SA replaces the one without", [
            "peer": "\(table[peer: p].peer.name)",
        ])
        startReauthentication(replacing: old, peerIndex: p, now: now)
    }

    /// Why no re-establishment is (or stays) due for the peer, or nil when one is.
    private func recreationCancelReason(peerIndex p: Int) -> String? {
        if shuttingDown { return "the daemon is stopping" }
        if table.isRetired(p) { return "the tunnel was removed" }
        if !sessionsWithChildren(ofPeer: p).isEmpty {
            return "a Child SA is installed again"
        }
        if table[peer: p].reauthentication != nil { return "a new IKE SA is being negotiated" }
        if establishedSessions(ofPeer: p).isEmpty { return "no IKE SA left: re-initiation takes over" }
        return nil
    }

    /// The peer's established, unfinished sessions, oldest first.
    private func establishedSessions(ofPeer p: Int) -> [IKESATable.SessionID] {
        table.sessionIDs(ofPeer: p) { !$0.finished && $0.isEstablished }
    }

    private static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s))s" : "\(s)s"
    }
}
