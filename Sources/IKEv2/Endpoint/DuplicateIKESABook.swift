
/// Duplicate IKE SAs as the daemon tracks them, by peer index (IKESAManager+DuplicateIKESAs.swift):
/// when the reduction runs, and since when a losing IKE SA the peer created has waited for the
/// peer to delete it.
struct DuplicateIKESABook {
    typealias SessionID = IKESATable.SessionID

    /// When the peer's IKE SAs are next reduced to one (the grace after a second one appeared).
    var checkAt: [Int: IKEInstant] = [:]
    /// Losing IKE SAs the peer created (its to delete), with when we delete them ourselves if it
    /// has not: a peer without this rule (e.g. strongSwan) never would.
    var peerLosers: [Int: [SessionID: IKEInstant]] = [:]
    /// Sessions this end asked to delete their IKE SA (a reauthentication's old SA, a loser):
    /// they take no part, whatever their Delete's answer takes.
    var closing: Set<SessionID> = []

    mutating func forget(peerIndex: Int) {
        checkAt[peerIndex] = nil
        peerLosers[peerIndex] = nil
    }

    /// A session is gone.
    mutating func forget(_ id: SessionID) {
        closing.remove(id)
        for p in Array(peerLosers.keys) { peerLosers[p]?[id] = nil }
    }
}
