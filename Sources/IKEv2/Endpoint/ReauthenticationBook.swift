
/// RFC 7296 §2.8.3 reauthentication as the daemon tracks it, by peer index and session: the
/// new IKE SA being built to replace an old one, retries after a failed attempt, the SPIs of
/// every established session (to report which SA replaced which), and responder sessions whose
/// first Child SA must not carry outbound traffic before the peer deletes its old IKE SA.
struct ReauthenticationBook {
    typealias SessionID = IKESATable.SessionID

    /// Our reauthentication of `old`, with the new initiator session `new`.
    struct Pending: Hashable {
        var old: SessionID
        var new: SessionID
    }

    /// A failed attempt: try again to replace `old` at `at`.
    struct Retry: Hashable {
        var old: SessionID
        var at: IKEInstant
    }

    /// A Child SA installed with its outbound half idle (`activateOutbound == false`).
    struct DeferredOutbound: Hashable {
        var inboundSPI: UInt32
        var outboundSPI: UInt32
        /// When it carries outbound traffic even if the peer keeps its old IKE SA.
        var until: IKEInstant
    }

    var pending: [Int: Pending] = [:]
    var retries: [Int: Retry] = [:]
    /// (initiator SPI, responder SPI) of each established session, kept through IKE SA rekeys.
    var spis: [SessionID: (UInt64, UInt64)] = [:]
    /// Sessions opened by the peer's IKE_SA_INIT (we are the responder of their IKE SA).
    var responders: Set<SessionID> = []
    var deferred: [SessionID: DeferredOutbound] = [:]

    var deadlines: [IKEInstant] { retries.values.map(\.at) + deferred.values.map(\.until) }

    /// A session is gone: nothing of it is kept.
    mutating func forget(_ id: SessionID) {
        spis[id] = nil
        responders.remove(id)
        deferred[id] = nil
        pending = pending.filter { $0.value.old != id && $0.value.new != id }
        retries = retries.filter { $0.value.old != id }
    }

    /// A peer removed from the running daemon.
    mutating func forget(peerIndex: Int, sessions: [SessionID]) {
        pending[peerIndex] = nil
        retries[peerIndex] = nil
        for id in sessions { forget(id) }
    }
}
