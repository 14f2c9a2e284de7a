// RFC 7296 §2.6 (SPIs name an IKE SA; the responder's is zero in the first IKE_SA_INIT request),
// §2.8/§2.8.3 (several IKE SAs with one peer during a rekey or reauthentication).
import NetTypes

/// Every IKE SA of the node in one table, whatever created it (our IKE_SA_INIT, the peer's, a
/// reauthentication, a duplicate, an IKE SA rekey that replaced it), with everything the
/// endpoint knows of each in one entry;
/// the node's peers with what the endpoint knows per peer; the endpoint's named timers; and the
/// indices that route a datagram to an IKE SA by (SPI, peer address). Forgetting an IKE SA is
/// one call that removes its entry, its indices, its timers and every reference a peer holds.
struct IKESATable {
    typealias SessionID = Int

    /// One IKE SA: a session, or a side SA a session retired (RFC 7296 §2.18, §2.8.2).
    struct Entry {
        var peerIndex: Int
        var session: any IKESessionDriving
        /// For a retired side SA: the session whose tunnel it belonged to, which now carries it
        /// (its relays go there; it is forgotten with it).
        var successor: SessionID?
        /// This end sent its IKE_SA_INIT (false: the peer's request created it).
        let createdHere: Bool
        /// Set once the session reported failure or deletion; reaped when it has no deadline.
        var finished = false
        /// (initiator SPI, responder SPI) once established, kept through IKE SA rekeys: both
        /// ends know both, which is what the duplicate rule and the reports compare.
        var established: EstablishedSPIs?
        /// Child SAs in the data plane and not yet deleted (inbound → outbound SPI): an IKE SA
        /// that dies without deleting them (DPD, retransmission timeout) must not leave them
        /// installed, nor its tunnel up.
        var children: [ESPSPI: ESPSPI] = [:]
        /// A Child SA installed with its outbound half idle (the peer's reauthentication,
        /// §2.8.3); the `.deferredOutbound` timer says when it carries outbound traffic anyway.
        var deferredOutbound: ChildSPIs?
        /// This end asked to delete it (a reauthentication's old SA, a duplicate's loser): it
        /// takes no part in the duplicate rule, whatever the Delete's answer takes.
        var closing = false
        /// The admission ticket it holds while half-open (RFC 8019).
        var admissionTicket: IKEAdmissionTicket?
        /// A responder for an address of no fixed peer, filed under the first dynamic peer
        /// until IKE_AUTH's identity names its own (`IKESAManager.identified`): it reports
        /// nothing to a tunnel before that.
        var provisional = false
        /// Our SPIs it answers to, and its half-open key: the indices that lead here.
        fileprivate var spis: Set<IKESPI> = []
        fileprivate var halfOpen: HalfOpenKey?

        var isEstablished: Bool { established != nil }
    }

    struct EstablishedSPIs: Hashable {
        var initiator: IKESPI
        var responder: IKESPI
    }

    struct ChildSPIs: Hashable {
        var inbound: ESPSPI
        var outbound: ESPSPI
    }

    /// One configured peer (one tunnel).
    struct PeerEntry {
        var peer: IKETunnelPeer
        /// Removed by `viaduct apply`; the slot stays so indices stay valid.
        var retired = false
        /// The Child SA (inbound SPI) carrying the tunnel's outbound traffic, as last told to
        /// the data plane; a duplicate's removal moves it to the surviving IKE SA first.
        var currentOutbound: ESPSPI?
        /// Our reauthentication under way (§2.8.3): `old` is replaced by the new session `new`.
        var reauthentication: Reauthentication?
        /// The IKE SA a failed reauthentication tries again to replace (when: the
        /// `.reauthenticationRetry` timer).
        var reauthenticationRetry: SessionID?
        /// Losing duplicate IKE SAs the peer created (its to delete), with when we delete them
        /// ourselves if it has not: a peer without the rule (e.g. strongSwan) never would.
        var peerLosers: [SessionID: IKEInstant] = [:]
    }

    struct Reauthentication: Hashable {
        var old: SessionID
        var new: SessionID
    }

    struct HalfOpenKey: Hashable {
        var address: [UInt8]
        var initiatorSPI: IKESPI
    }

    enum Lookup: Equatable {
        case session(SessionID)
        /// A new IKE SA from configured peer number `peerIndex`.
        case newSA(peerIndex: Int)
        /// A new IKE SA from an address of no fixed peer, with dynamic peers configured.
        case newDynamicSA
        case unknownPeer
        case unknownSPI
    }

    private(set) var peers: [PeerEntry] = []
    var sessions: [SessionID: Entry] = [:]
    /// The retired side SAs of each session, oldest first (every entry with a `successor`).
    private var retiredBy: [SessionID: [SessionID]] = [:]
    /// How many entries are retired side SAs (the rest are sessions).
    private(set) var retiredCount = 0
    var timers = IKETimerTable<IKEEndpointTimer>()
    private var nextID: SessionID = 0
    private var bySPI: [IKESPI: SessionID] = [:]
    private var byHalfOpen: [HalfOpenKey: SessionID] = [:]
    private var byAddress: [[UInt8]: Int] = [:]
    /// How many live peers are `dynamic` (routing asks on every datagram).
    private(set) var liveDynamicPeers = 0

    // MARK: Peers

    mutating func addPeer(_ peer: IKETunnelPeer) -> Int {
        peers.append(PeerEntry(peer: peer))
        if peer.dynamic { liveDynamicPeers += 1 } else {
            for a in peer.addresses where byAddress[a] == nil { byAddress[a] = peers.count - 1 }
        }
        return peers.count - 1
    }

    /// The live `dynamic` peers, in the order they were added.
    var dynamicPeerIndices: [Int] { peers.indices.filter { !peers[$0].retired && peers[$0].peer.dynamic } }

    /// Points the fixed addresses of live peer `index` elsewhere (a DNS name resolved anew);
    /// sessions already made keep where they are.
    mutating func setAddresses(_ addresses: [[UInt8]], remote: IKEEndpoint, ofPeer index: Int) {
        peers[index].peer.addresses = addresses
        peers[index].peer.remote = remote
        reindexAddresses()
    }

    private mutating func reindexAddresses() {
        byAddress = [:]
        for (i, p) in peers.enumerated() where !p.retired && !p.peer.dynamic {
            for a in p.peer.addresses where byAddress[a] == nil { byAddress[a] = i }
        }
    }

    subscript(peer index: Int) -> PeerEntry {
        get { peers[index] }
        set { peers[index] = newValue }
    }

    func isRetired(_ index: Int) -> Bool { peers[index].retired }

    /// Indices of the peers not removed, in the order they were added.
    var livePeerIndices: [Int] { peers.indices.filter { !peers[$0].retired } }

    /// Forgets a peer (`viaduct apply` removed it): its addresses stop routing to it, its
    /// timers stop and its sessions are dropped. Returns the dropped sessions' entries.
    mutating func retirePeer(_ index: Int) -> [Entry] {
        guard peers.indices.contains(index), !peers[index].retired else { return [] }
        peers[index].retired = true
        if peers[index].peer.dynamic { liveDynamicPeers -= 1 }
        peers[index].reauthentication = nil
        peers[index].reauthenticationRetry = nil
        peers[index].peerLosers = [:]
        timers.removeAll { $0.peer == index }
        // Another live peer may share an address with the retired one.
        reindexAddresses()
        return forget(sessions.filter { $0.value.peerIndex == index && !$0.value.provisional }.map(\.key))
    }

    /// The index of the live (not retired) peer of `tunnel`.
    func peerIndex(of tunnel: TunnelID) -> Int? {
        peers.indices.first { peers[$0].peer.tunnel == tunnel && !peers[$0].retired }
    }

    // MARK: IKE SAs

    mutating func addSession(_ session: any IKESessionDriving, peerIndex: Int, createdHere: Bool,
                             halfOpen: HalfOpenKey? = nil) -> SessionID {
        let id = nextID
        nextID += 1
        sessions[id] = Entry(peerIndex: peerIndex, session: session, createdHere: createdHere, halfOpen: halfOpen)
        if let halfOpen { byHalfOpen[halfOpen] = id }
        return id
    }

    /// A side SA that session `successor` retired: an entry of its own, finished from the start
    /// (it takes part in nothing but its own Delete), routed to by its SPI.
    mutating func addRetired(_ side: IKESideSA, successor: SessionID) -> SessionID? {
        guard let e = sessions[successor] else { return nil }
        let id = addSession(side, peerIndex: e.peerIndex, createdHere: false)
        sessions[id]?.successor = successor
        sessions[id]?.finished = true
        retiredBy[successor, default: []].append(id)
        retiredCount += 1
        sync(spis: side.localIKESPIs, of: id)
        return id
    }

    /// The side SAs `successor` retired, oldest first.
    func retired(of successor: SessionID) -> [SessionID] { retiredBy[successor] ?? [] }

    /// A retired side SA's entry, changed in place.
    mutating func withSide<T>(_ id: SessionID, _ body: (inout IKESideSA) -> T) -> T? {
        guard var entry = sessions[id], var side = entry.session as? IKESideSA else { return nil }
        let result = body(&side)
        entry.session = side
        sessions[id] = entry
        return result
    }

    /// Makes exactly `spis` route to the session (RFC 7296 §2.18: an IKE SA rekey adds a new
    /// SPI before anything was sent with it, and the replaced SA's goes once it is deleted).
    mutating func sync(spis: [IKESPI], of id: SessionID) {
        guard !spis.isEmpty, let old = sessions[id]?.spis else { return }  // none chosen yet
        let now = Set(spis)
        guard now != old else { return }
        for spi in old where !now.contains(spi) && bySPI[spi] == id { bySPI[spi] = nil }
        for spi in now { bySPI[spi] = id }
        sessions[id]?.spis = now
    }

    func route(_ header: IKEHeader, from address: [UInt8]) -> Lookup {
        let known = byAddress[address]
        guard known != nil || liveDynamicPeers > 0 else { return .unknownPeer }
        let ours = header.receiverSPI
        if !ours.isZero, let id = bySPI[ours], let e = sessions[id] {
            // SPIs are not secrets; a fixed peer's address is the filter. A dynamic peer (or
            // one not identified yet) may be anywhere, and moves: the SA's keys are its filter,
            // and the session answers only what they authenticate (RFC 7296 §2.11, §2.21).
            if e.provisional || peers[e.peerIndex].peer.dynamic { return .session(id) }
            if peers[e.peerIndex].peer.addresses.contains(address) { return .session(id) }
            return known == nil ? .unknownPeer : .unknownSPI
        }
        if header.isNewSARequest {
            if let id = byHalfOpen[HalfOpenKey(address: address, initiatorSPI: header.initiatorSPI)], sessions[id] != nil {
                return .session(id)
            }
            return known.map { .newSA(peerIndex: $0) } ?? .newDynamicSA
        }
        return known == nil ? .unknownPeer : .unknownSPI
    }

    mutating func withSession<T>(_ id: SessionID, _ body: (inout any IKESessionDriving) -> T) -> T? {
        guard var entry = sessions[id] else { return nil }
        let result = body(&entry.session)
        sessions[id] = entry
        return result
    }

    /// Finished sessions that have nothing left to do.
    var reapable: [SessionID] {
        sessions.filter { $0.value.finished && $0.value.session.nextDeadline == nil }.map(\.key).sorted()
    }

    /// Drops sessions with everything that leads to them or names them (SPIs, half-open keys,
    /// timers, a peer's reauthentication or duplicate books); returns their last entries.
    @discardableResult
    mutating func forget(_ ids: [SessionID]) -> [Entry] {
        // The side SAs a session retired go with it.
        let gone = Set(ids).union(ids.flatMap { retired(of: $0) })
        var dropped: [Entry] = []
        for id in gone.sorted() {
            guard let e = sessions.removeValue(forKey: id) else { continue }
            retiredBy[id] = nil
            if let s = e.successor {
                retiredCount -= 1
                retiredBy[s]?.removeAll { $0 == id }
                if retiredBy[s]?.isEmpty == true { retiredBy[s] = nil }
            }
            dropped.append(e)
            for spi in e.spis where bySPI[spi] == id { bySPI[spi] = nil }
            if let h = e.halfOpen, byHalfOpen[h] == id { byHalfOpen[h] = nil }
            timers[.deferredOutbound(session: id)] = nil
        }
        // Only the dropped sessions' peers can name them: a reap of nothing touches no peer.
        for p in Set(dropped.map(\.peerIndex)) {
            if let r = peers[p].reauthentication, gone.contains(r.old) || gone.contains(r.new) { peers[p].reauthentication = nil }
            if let r = peers[p].reauthenticationRetry, gone.contains(r) {
                peers[p].reauthenticationRetry = nil
                timers[.reauthenticationRetry(peer: p)] = nil
            }
            for id in gone { peers[p].peerLosers[id] = nil }
        }
        return dropped
    }

    /// The peer's sessions, oldest first; `except` left out.
    /// A provisional session (a dynamic peer's, not identified yet) is no peer's.
    func sessionIDs(ofPeer index: Int, except id: SessionID? = nil, where include: (Entry) -> Bool = { _ in true }) -> [SessionID] {
        sessions.filter { $0.value.peerIndex == index && !$0.value.provisional && $0.key != id && include($0.value) }.map(\.key).sorted()
    }

    /// Live (unfinished) sessions of a peer.
    func liveSessions(ofPeer index: Int) -> Int {
        sessions.values.filter { $0.peerIndex == index && !$0.provisional && !$0.finished }.count
    }
}

/// The endpoint's own deadlines (each session keeps its own: retransmission, DPD, rekey), one
/// named timer per key as in quinn's `TimerTable`. They fire in this order, then by index.
enum IKEEndpointTimer: Hashable, Comparable {
    /// An initiator peer opens a new IKE SA after the last one failed or was deleted.
    case reinitiate(peer: Int)
    /// A peer's new IKE SA carries outbound traffic even though the peer kept its old one.
    case deferredOutbound(session: Int)
    /// A failed reauthentication is tried again.
    case reauthenticationRetry(peer: Int)
    /// A tunnel without a Child SA is built again.
    case recreateChild(peer: Int)
    /// Duplicate IKE SAs of a peer are reduced to one.
    case duplicateCheck(peer: Int)

    var peer: Int? {
        switch self {
        case .reinitiate(let p), .reauthenticationRetry(let p), .recreateChild(let p), .duplicateCheck(let p): p
        case .deferredOutbound: nil
        }
    }

    private var order: (Int, Int) {
        switch self {
        case .reinitiate(let p): (0, p)
        case .deferredOutbound(let s): (1, s)
        case .reauthenticationRetry(let p): (2, p)
        case .recreateChild(let p): (3, p)
        case .duplicateCheck(let p): (4, p)
        }
    }

    static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// Named deadlines; the next one is their minimum.
struct IKETimerTable<Key: Hashable & Comparable> {
    private var deadlines: [Key: IKEInstant] = [:]

    subscript(_ key: Key) -> IKEInstant? {
        get { deadlines[key] }
        set { deadlines[key] = newValue }
    }

    var next: IKEInstant? { deadlines.values.min() }

    /// The timers due at `now`, in key order.
    func due(at now: IKEInstant) -> [Key] { deadlines.filter { $0.value <= now }.map(\.key).sorted() }

    mutating func removeAll(where shouldRemove: (Key) -> Bool) {
        deadlines = deadlines.filter { !shouldRemove($0.key) }
    }
}
