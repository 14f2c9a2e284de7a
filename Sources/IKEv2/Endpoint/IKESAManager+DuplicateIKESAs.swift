// RFC 7296 §2.8 (an IKE SA is independent of any other with the same peer; §2.8.1/§2.8.2 resolve
// only *rekey* collisions, by the nonces of the two exchanges), §2.8.3 (two IKE SAs with a peer
// during a reauthentication, make-before-break), §1.4.1 (an IKE SA's Delete takes its Child SAs).
import NetTypes

/// Two established IKE SAs with one peer that are not a reauthentication in progress: both ends
/// started one at the same instant (a peer that also initiates, both ends reauthenticating at
/// once), or one end kept an SA the other gave up on. Nothing in the protocol pairs them up, and
/// the two ends do not negotiate which one stays, so each end applies the same rule to what both
/// of them know of every IKE SA:
///
/// 1. the survivor is an IKE SA created by the tunnel's topology initiator if there is one
///    (`IKETunnelPeer.initiator` on this end; its IKE_SA_INIT's sender on the other), since that is
///    the end meant to create them;
/// 2. among several from the same end, the one with the highest (initiator SPI, responder SPI),
///    compared numerically: both ends saw both SPIs of every IKE SA in its IKE_SA_INIT.
///
/// Only IKE SAs with a Child SA installed count (a half-built one carries no traffic yet), and not
/// the old or new IKE SA of our own reauthentication. The check runs `duplicateGraceSeconds`
/// after a second such SA appeared, so a peer's reauthentication (which deletes its old SA itself,
/// within a round trip) ends first. Each losing IKE SA is deleted by the end that created it: the
/// two ends never both send a Delete for the same SA in the normal case, and neither deletes an
/// SA the other is about to make its reauthentication's survivor. A losing SA the peer created
/// and still keeps after `3 × duplicateGraceSeconds` more (a peer without this rule) is deleted by
/// us; should the peer's Delete cross ours then, each answers the other's (§1.4.1) and both go.
/// Before any loser is deleted, the survivor's Child SA carries our outbound traffic
/// (make-before-break); the end receiving the Delete moves its outbound traffic the same way before
/// the loser's Child SAs leave its data plane (`keepOutbound`). The loser's deletion is reported
/// like a reauthentication (`ikeSAReauthenticated`, no tunnel-down).
extension IKESAManager {
    /// The peer's IKE SAs that take part: established, unfinished, with a Child SA installed,
    /// neither the old nor the new SA of our reauthentication in progress, nor one this end is
    /// deleting already (a reauthentication's old SA waiting for the answer to its Delete).
    func duplicateCandidates(peerIndex p: Int) -> [IKESATable.SessionID] {
        let pending = table[peer: p].reauthentication
        return table.sessionIDs(ofPeer: p) { !$0.finished && $0.isEstablished && !$0.children.isEmpty && !$0.closing }
            .filter { $0 != pending?.old && $0 != pending?.new }
    }

    /// The rule's order: the greatest survives. Both ends compute the same order.
    func survivorRank(_ id: IKESATable.SessionID, peerIndex p: Int) -> (Int, UInt64, UInt64) {
        let e = table.sessions[id]
        let byTopologyInitiator = table[peer: p].peer.initiator == (e?.createdHere ?? false)
        return (byTopologyInitiator ? 1 : 0, e?.established?.initiator.rawValue ?? 0, e?.established?.responder.rawValue ?? 0)
    }

    func duplicateSurvivor(among ids: [IKESATable.SessionID], peerIndex p: Int) -> IKESATable.SessionID? {
        ids.max { survivorRank($0, peerIndex: p) < survivorRank($1, peerIndex: p) }
    }

    /// Called at the end of a `drain` of one of the peer's sessions that changed an SA: a second
    /// IKE SA with a Child SA schedules the reduction after the grace; back to one cancels it.
    func reviewDuplicates(peerIndex p: Int, now: IKEInstant) {
        guard duplicateCandidates(peerIndex: p).count >= 2 else {
            forgetDuplicates(peerIndex: p)
            return
        }
        guard table.timers[.duplicateCheck(peer: p)] == nil, !shuttingDown, !table.isRetired(p) else { return }
        table.timers[.duplicateCheck(peer: p)] = now.adding(seconds: duplicateGraceSeconds)
        log(.debug, "another IKE SA with the peer: reduced to one unless it goes by itself", [
            "peer": "\(table[peer: p].peer.name)", "in": "\(Int(duplicateGraceSeconds))s",
        ])
    }

    private func forgetDuplicates(peerIndex p: Int) {
        table.timers[.duplicateCheck(peer: p)] = nil
        table[peer: p].peerLosers = [:]
    }

    /// The `.duplicateCheck` timer: the grace is over.
    func reduceDuplicates(peerIndex p: Int, now: IKEInstant) {
        guard !shuttingDown, !table.isRetired(p) else { return }
        let candidates = duplicateCandidates(peerIndex: p)
        guard candidates.count >= 2, let survivor = duplicateSurvivor(among: candidates, peerIndex: p) else {
            forgetDuplicates(peerIndex: p)
            return
        }
        let name = table[peer: p].peer.name
        let keep = spiPair(survivor)
        var mine: [IKESATable.SessionID] = []
        var waiting: [IKESATable.SessionID: IKEInstant] = [:]
        for loser in candidates where loser != survivor {
            let spis = spiPair(loser)
            let text = "keeping SPIs \(SPIText.ike(keep.0))_i \(SPIText.ike(keep.1))_r, "
                + "deleting SPIs \(SPIText.ike(spis.0))_i \(SPIText.ike(spis.1))_r"
            if table.sessions[loser]?.createdHere == true {
                mine.append(loser)
                log(.notice, "duplicate IKE SA with \(name): \(text)", ["peer": "\(name)", "by": "local"])
            } else if let until = table[peer: p].peerLosers[loser], until <= now {
                mine.append(loser)
                log(.notice, "duplicate IKE SA with \(name): \(text)", [
                    "peer": "\(name)", "by": "local", "reason": "the peer kept it",
                ])
            } else {
                let until = table[peer: p].peerLosers[loser] ?? now.adding(seconds: 3 * duplicateGraceSeconds)
                waiting[loser] = until
                log(.info, "duplicate IKE SA with \(name): \(text)", ["peer": "\(name)", "by": "peer"])
            }
        }
        table[peer: p].peerLosers = waiting
        if let next = waiting.values.min() { table.timers[.duplicateCheck(peer: p)] = next }
        guard !mine.isEmpty else { return }
        // Make-before-break: the survivor carries our outbound traffic before a loser's Delete.
        moveOutbound(peerIndex: p, to: survivor)
        for loser in mine {
            table.sessions[loser]?.closing = true
            _ = table.withSession(loser) { $0.close(now: now) }
            drain(loser, now: now)
        }
    }

    /// A Child SA of session `id` leaves the data plane (a Delete, a failure): if it carried the
    /// peer's outbound traffic while another IKE SA of the peer has a Child SA, that one takes it
    /// first (the duplicate's survivor, by the rule above), so the tunnel is never without an
    /// outbound SA.
    func keepOutbound(peerIndex p: Int, losing inbound: ESPSPI, of id: IKESATable.SessionID) {
        guard table[peer: p].currentOutbound == inbound else { return }
        guard let next = duplicateSurvivor(among: sessionsWithChildren(ofPeer: p, except: id), peerIndex: p) else { return }
        moveOutbound(peerIndex: p, to: next)
    }

    /// A Child SA of session `id` (the highest inbound SPI, for the same choice every time) carries
    /// the peer's outbound traffic, unless one of its Child SAs already does.
    private func moveOutbound(peerIndex p: Int, to id: IKESATable.SessionID) {
        let tunnel = table[peer: p].peer.tunnel
        guard let children = table.sessions[id]?.children, let inbound = children.keys.max(), let outbound = children[inbound],
              table[peer: p].currentOutbound.map({ children[$0] == nil }) ?? true else { return }
        if table.sessions[id]?.deferredOutbound?.inbound == inbound {
            activateDeferred(of: id)
            return
        }
        setDeferredOutbound(nil, of: id)
        log(.info, "the surviving IKE SA carries outbound traffic now", [
            "peer": "\(tunnel)", "spi": "\(SPIText.child(inbound))_i \(SPIText.child(outbound))_o",
        ])
        let event = IKEEvent.childSAOutboundActivated(inboundSPI: inbound, outboundSPI: outbound)
        apply(event, peerIndex: p)
        actions.append(.report(event, tunnel))
    }

    /// (initiator SPI, responder SPI) of an established session, zeros otherwise.
    private func spiPair(_ id: IKESATable.SessionID) -> (IKESPI, IKESPI) {
        let e = table.sessions[id]?.established
        return (e?.initiator ?? .zero, e?.responder ?? .zero)
    }
}
