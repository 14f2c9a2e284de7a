import Glibc
import IKEv2
import Logging
import NetTypes
import System
import Topology

/// Peers known by a DNS name (`address: NAME`), looked up off the event loop. Every IKE SA this
/// end opens to such a peer (first start, re-initiation, after DPD gave up on it, a
/// reauthentication) asks for a new answer: `endpoint(for:)` hands a lookup to the worker
/// threads of `NameLookupPool` (System) and tells the endpoint to wait
/// (`IKESessionFactoryError.waiting`); the answer comes back as an event on the loop (this is
/// an `EventLoopSource`), `onAnswer` moves the peer and resumes its IKE SA, which then takes the
/// answer. Meanwhile every other peer, DPD and the control socket go on: a dead DNS server
/// holds a worker, never the loop.
///
/// At most one lookup per name is in flight; an answer for a name no tunnel has any more (an
/// apply removed it) is dropped. Loop thread only.
public final class PeerNameResolver: EventLoopSource {
    /// What status says of a named peer's address.
    public enum Status: Equatable, Sendable {
        /// A lookup is in flight and the peer's IKE SA waits for it.
        case resolving(String)
        /// The last lookup failed, with why.
        case failed(String, reason: String)
        /// The last answer (its first address).
        case resolved(String, IPAddress)
    }

    private struct Key: Hashable {
        var name: String
        var family: IPAddress.Family
    }

    public typealias Answer = Result<[IPAddress], NameResolution.Failure>

    private let pool: NameLookupPool
    /// The named peers the daemon has, by tunnel.
    private var names: [TunnelID: Key] = [:]
    private var inFlight: Set<Key> = []
    /// Tunnels whose next IKE SA waits for the lookup of the key.
    private var waiting: [Key: Set<TunnelID>] = [:]
    /// Answers a waiting tunnel's IKE SA takes (once) when it is resumed.
    private var answers: [TunnelID: Answer] = [:]
    private var last: [Key: Answer] = [:]
    /// Answers dropped because no tunnel had their name any more.
    public private(set) var droppedAnswers = 0
    /// Called on the loop for each tunnel with the answered name: `waited` when an IKE SA of it
    /// waits for this answer (resume it; it takes the answer), false for a refresh.
    public var onAnswer: ((TunnelID, Answer, _ waited: Bool, IKEInstant) -> Void)?

    public init(pool: NameLookupPool) {
        self.pool = pool
    }

    /// getaddrinfo(3) on two worker threads.
    public convenience init() throws(DaemonError) {
        do throws(Errno) { self.init(pool: try NameLookupPool()) } catch {
            throw DaemonError(.system, "cannot start the name resolver's threads: \(error)", errno: error)
        }
    }

    /// A peer known by name that this end initiates to. One that initiates itself is told by
    /// its identity, from any address (IKETunnelPeer+Plan.swift): nothing to look up.
    private static func key(of tunnel: TunnelPlan) -> Key? {
        guard case .name(let n) = tunnel.ike.peerUnderlay, tunnel.ike.role == .initiator else { return nil }
        return Key(name: n, family: tunnel.ike.peerAddress.family)
    }

    /// The named peers of `plan` (at start and after each apply); what belongs to tunnels no
    /// longer in it is forgotten, and their answers in flight will be dropped.
    public func configure(_ plan: NodePlan) {
        var next: [TunnelID: Key] = [:]
        for t in plan.tunnels { if let k = Self.key(of: t) { next[t.tunnel] = k } }
        names = next
        let kept = Set(next.values)
        answers = answers.filter { next[$0.key] != nil }
        waiting = waiting.compactMapValues { w in
            let left = w.filter { next[$0] != nil }
            return left.isEmpty ? nil : left
        }.filter { kept.contains($0.key) }
        last = last.filter { kept.contains($0.key) }
    }

    /// Looks every configured name up again (an apply): the answers move the peers for their
    /// next IKE SA; the ones they have stay.
    public func refresh() {
        for key in Set(names.values) where !inFlight.contains(key) {
            if case .success = pool.submit(name: key.name, ipv6: key.family == .ipv6) { inFlight.insert(key) }
        }
    }

    /// The address a new IKE SA to `tunnel`'s peer goes to: nil for a peer not known by name;
    /// the answer it waited for; else it waits (a lookup starts unless one is in flight).
    public func endpoint(for tunnel: TunnelPlan) throws(IKESessionFactoryError) -> IPAddress? {
        guard let key = Self.key(of: tunnel) else { return nil }
        let id = tunnel.tunnel
        names[id] = key
        if let answer = answers.removeValue(forKey: id) {
            switch answer {
            case .success(let list):
                guard let first = list.first else { throw IKESessionFactoryError("cannot resolve \(key.name): no address") }
                return first
            case .failure(let f): throw IKESessionFactoryError(f.description)
            }
        }
        if !inFlight.contains(key) {
            switch pool.submit(name: key.name, ipv6: key.family == .ipv6) {
            case .success: inFlight.insert(key)
            case .failure(let f):
                last[key] = .failure(f)
                throw IKESessionFactoryError(f.description)
            }
        }
        waiting[key, default: []].insert(id)
        throw IKESessionFactoryError("resolving \(key.name)", waiting: true)
    }

    public func status(of tunnel: TunnelID) -> Status? {
        guard let key = names[tunnel] else { return nil }
        if inFlight.contains(key), waiting[key]?.contains(tunnel) == true { return .resolving(key.name) }
        switch last[key] {
        case .success(let list)?: return list.first.map { .resolved(key.name, $0) } ?? .failed(key.name, reason: "no address")
        case .failure(let f)?: return .failed(key.name, reason: f.description)
        case nil: return inFlight.contains(key) ? .resolving(key.name) : nil
        }
    }

    /// One answer from the pool, on the loop.
    func deliver(_ a: NameLookupPool.Answer, now: IKEInstant) {
        let key = Key(name: a.name, family: a.ipv6 ? .ipv6 : .ipv4)
        inFlight.remove(key)
        let tunnels = names.filter { $0.value == key }.keys.sorted { $0.peer < $1.peer }
        guard !tunnels.isEmpty else {
            droppedAnswers += 1
            waiting[key] = nil
            return
        }
        let answer: Answer = a.result.map { list in list.compactMap(IPAddress.init(networkBytes:)) }
        last[key] = answer
        let waited = waiting.removeValue(forKey: key) ?? []
        for t in tunnels {
            if waited.contains(t) { answers[t] = answer }
            onAnswer?(t, answer, waited.contains(t), now)
        }
    }

    // MARK: EventLoopSource

    public func pollDescriptors() -> [pollfd] {
        [pollfd(fd: pool.descriptor, events: Int16(POLLIN), revents: 0)]
    }

    public func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant) {
        guard ready.contains(where: { $0.revents != 0 }) else { return }
        for a in pool.take() { deliver(a, now: now) }
    }

    /// The pool's threads end when it goes.
    public func close() {}
}

extension PeerNameResolver {
    /// An answer on the loop: datagrams from the new addresses route to the peer and its next
    /// IKE SA goes to the first (`IKESAManager.updateAddresses`, which logs a move); a failure
    /// is a warning and the peer's retry. True when the peer was somewhere else before.
    @discardableResult
    static func follow(_ answer: Answer, tunnel: TunnelID, ports: IKEPorts, core: EndpointDriver, logger: Logger) -> Bool {
        switch answer {
        case .success(let list):
            guard let first = list.first else { return false }
            let remote = IKEEndpoint(address: first.bytes, port: ports.ike)
            let before = core.peers.first { $0.tunnel == tunnel }?.remote
            core.updateAddresses(of: tunnel, addresses: list.map(\.bytes), remote: remote)
            return before.map { $0 != remote && $0.address.contains { $0 != 0 } } ?? false
        case .failure(let f):
            logger.warning("peer name does not resolve: its tunnel waits and tries again",
                           metadata: ["peer": "\(tunnel.peer)", "reason": "\(f.description)"])
            return false
        }
    }

    /// Performs an answer: the peer follows it; the IKE SA that waited for it opens now; after
    /// an apply (a refresh), a peer whose name points elsewhere has its tunnel rebuilt there at
    /// once, as an apply did when the answer was part of the plan.
    static func perform(_ answer: Answer, tunnel: TunnelID, waited: Bool, now: IKEInstant, ports: IKEPorts,
                        core: EndpointDriver, logger: Logger) {
        let moved = follow(answer, tunnel: tunnel, ports: ports, core: core, logger: logger)
        if waited {
            core.resume(tunnel, now: now)
        } else if moved, let peer = core.peers.first(where: { $0.tunnel == tunnel }), peer.initiator {
            logger.notice("peer name points elsewhere: rebuilding its tunnel there", metadata: ["peer": "\(tunnel.peer)", "remote": "\(peer.remote)"])
            core.removeRunning(tunnel, now: now)
            core.addRunning(peer: peer, now: now)
        }
    }
}
