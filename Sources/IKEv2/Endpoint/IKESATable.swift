import NetTypes

/// The node's peers, their live sessions (one per IKE SA), and the index that routes a
/// datagram to a session by (SPI, peer address). Each session reports the SPIs it answers to
/// (`IKESessionDriving.localIKESPIs`); half-open responder sessions are also found by (peer
/// address, initiator SPI), which is how a retransmitted IKE_SA_INIT request (responder SPI
/// still zero) finds its session.
struct IKESATable {
    typealias SessionID = Int

    struct Entry {
        var peerIndex: Int
        var session: any IKESessionDriving
        /// Set once the session reported failure or deletion; reaped when it has no deadline.
        var finished = false
    }

    struct HalfOpenKey: Hashable {
        var address: [UInt8]
        var initiatorSPI: UInt64
    }

    enum Lookup: Equatable {
        case session(SessionID)
        /// A new IKE SA from configured peer number `peerIndex`.
        case newSA(peerIndex: Int)
        case unknownPeer
        case unknownSPI
    }

    /// Indexed by peer index; a removed peer keeps its slot (so indices stay valid) and is
    /// listed in `retired`.
    private(set) var peers: [IKETunnelPeer] = []
    private(set) var retired: Set<Int> = []
    private(set) var sessions: [SessionID: Entry] = [:]
    private var nextID: SessionID = 0
    private var bySPI: [UInt64: SessionID] = [:]
    private var spisOf: [SessionID: Set<UInt64>] = [:]
    private var byHalfOpen: [HalfOpenKey: SessionID] = [:]
    private var byAddress: [[UInt8]: Int] = [:]

    mutating func addPeer(_ peer: IKETunnelPeer) -> Int {
        peers.append(peer)
        for a in peer.addresses where byAddress[a] == nil { byAddress[a] = peers.count - 1 }
        return peers.count - 1
    }

    /// Forgets a peer (`viaduct apply` removed it): its addresses stop routing to it and its
    /// sessions are dropped. Returns the dropped sessions.
    mutating func retirePeer(_ index: Int) -> [SessionID] {
        guard peers.indices.contains(index), !retired.contains(index) else { return [] }
        retired.insert(index)
        byAddress = byAddress.filter { $0.value != index }
        // Another live peer may share an address with the retired one.
        for (i, p) in peers.enumerated() where !retired.contains(i) {
            for a in p.addresses where byAddress[a] == nil { byAddress[a] = i }
        }
        let dropped = sessions.filter { $0.value.peerIndex == index }.map(\.key)
        forget(dropped)
        return dropped
    }

    /// The index of the live (not retired) peer of `tunnel`.
    func peerIndex(of tunnel: TunnelID) -> Int? {
        peers.indices.first { peers[$0].tunnel == tunnel && !retired.contains($0) }
    }

    mutating func addSession(_ session: any IKESessionDriving, peerIndex: Int,
                             halfOpen: HalfOpenKey? = nil) -> SessionID {
        let id = nextID
        nextID += 1
        sessions[id] = Entry(peerIndex: peerIndex, session: session)
        if let halfOpen { byHalfOpen[halfOpen] = id }
        return id
    }

    /// Makes exactly `spis` route to the session (RFC 7296 §2.18: an IKE SA rekey adds a new
    /// SPI before anything was sent with it, and the replaced SA's goes once it is deleted).
    mutating func sync(spis: [UInt64], of id: SessionID) {
        guard !spis.isEmpty else { return }  // none chosen yet (a responder before IKE_SA_INIT)
        let now = Set(spis)
        for old in spisOf[id] ?? [] where !now.contains(old) && bySPI[old] == id { bySPI[old] = nil }
        for spi in now { bySPI[spi] = id }
        spisOf[id] = now
    }

    /// Forgets a session at once, deadlines or not, with its SPIs (its peer restarted:
    /// INITIAL_CONTACT, so it no longer knows this SA).
    mutating func remove(_ id: SessionID) {
        forget([id])
    }

    func route(_ route: IKEMessageRoute, from address: [UInt8]) -> Lookup {
        guard let peerIndex = byAddress[address] else { return .unknownPeer }
        let ours = route.receiverSPI
        if ours != 0, let id = bySPI[ours], let e = sessions[id] {
            // SPIs are not secrets; the peer's address is the filter.
            return peers[e.peerIndex].addresses.contains(address) ? .session(id) : .unknownSPI
        }
        if route.isNewSARequest {
            if let id = byHalfOpen[HalfOpenKey(address: address, initiatorSPI: route.initiatorSPI)], sessions[id] != nil {
                return .session(id)
            }
            return .newSA(peerIndex: peerIndex)
        }
        return .unknownSPI
    }

    mutating func withSession<T>(_ id: SessionID, _ body: (inout any IKESessionDriving) -> T) -> T? {
        guard var entry = sessions[id] else { return nil }
        let result = body(&entry.session)
        sessions[id] = entry
        return result
    }

    mutating func markFinished(_ id: SessionID) { sessions[id]?.finished = true }

    /// Forgets finished sessions that have nothing left to do, and their SPIs.
    mutating func reap() -> [SessionID] {
        let dead = sessions.filter { $0.value.finished && $0.value.session.nextDeadline == nil }.map(\.key)
        guard !dead.isEmpty else { return [] }
        forget(dead)
        return dead
    }

    /// Drops sessions with every index that leads to them (SPIs, half-open keys).
    private mutating func forget(_ ids: [SessionID]) {
        let gone = Set(ids)
        for id in ids {
            sessions[id] = nil
            spisOf[id] = nil
        }
        bySPI = bySPI.filter { !gone.contains($0.value) }
        byHalfOpen = byHalfOpen.filter { !gone.contains($0.value) }
    }

    /// Sessions of a peer other than `id`, finished or not.
    func sessionIDs(ofPeer index: Int, except id: SessionID) -> [SessionID] {
        sessions.filter { $0.value.peerIndex == index && $0.key != id }.map(\.key).sorted()
    }

    /// Live (unfinished) sessions of a peer.
    func liveSessions(ofPeer index: Int) -> Int {
        sessions.values.filter { $0.peerIndex == index && !$0.finished }.count
    }
}
