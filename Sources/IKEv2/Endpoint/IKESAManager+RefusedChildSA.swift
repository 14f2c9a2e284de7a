import NetTypes

// RFC 7296 §1.4.1: a Child SA the data plane could not install carries nothing, yet the peer
// sends into it. It is deleted, so the peer stops; the tunnel is then without a Child SA and is
// rebuilt as any such tunnel is (IKESAManager+ChildRecreation), with the proposals the data
// plane can carry.
extension IKESAManager {
    /// Asks the IKE SA of `tunnel` that holds the Child SA `inboundSPI` to delete it; false when
    /// no live IKE SA of the tunnel holds it (already gone, or already being deleted).
    @discardableResult
    public func deleteRefusedChildSA(inboundSPI: ESPSPI, tunnel: TunnelID, reason: String, now: IKEInstant) -> Bool {
        guard let index = table.peers.firstIndex(where: { $0.peer.tunnel == tunnel }) else { return false }
        var done = false
        for id in table.sessionIDs(ofPeer: index, where: { !$0.finished }) where !done {
            done = table.withSession(id, { $0.deleteChild(inboundSPI: inboundSPI, now: now) }) == true
            drain(id, now: now)
        }
        log(.warning, "deleting a Child SA the data plane refused", [
            "peer": "\(tunnel)", "spi": "\(SPIText.child(inboundSPI))_i", "reason": reason, "deleted": "\(done)",
        ])
        return done
    }
}
