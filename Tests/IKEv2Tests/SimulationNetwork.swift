import CryptoCore
@testable import IKEv2
import NetTypes

/// The in-memory network and fake clock of the simulations: datagrams sent into it are
/// delivered when due, and it can drop, duplicate and delay (hence reorder) them, all decided
/// by a seeded generator, so a run is a pure function of its seeds. `SimulationNetwork` runs two
/// engine sessions over it, `EndpointPair` two endpoints.
final class SimulationLink {
    struct Impairment {
        var loss = 0.0
        var duplication = 0.0
        /// Each datagram is delayed uniformly in 0...maxDelay seconds (reordering when > 0).
        var maxDelay = 0.0
        static let none = Impairment()
    }

    private struct InFlight {
        var at: IKEInstant
        var sequence: Int
        var datagram: IKEDatagram
    }

    private(set) var now: IKEInstant
    private var chance: SeededRandomSource
    private let impairment: Impairment
    private var inFlight: [InFlight] = []
    private var sequence = 0
    /// Every datagram sent, in order (before impairment).
    private(set) var wire: [IKEDatagram] = []
    /// Drops everything matching, regardless of impairment (e.g. to silence one side).
    var blackhole: (IKEDatagram) -> Bool = { _ in false }
    /// When true, `send` keeps datagrams in `held` instead of the network (manual ordering).
    var hold = false
    var held: [IKEDatagram] = []

    init(now: IKEInstant = IKEInstant(nanoseconds: 0), impairmentSeed: UInt64 = 0, impairment: Impairment = .none) {
        self.now = now
        self.chance = SeededRandomSource(seed: impairmentSeed)
        self.impairment = impairment
    }

    private func roll() -> Double { Double(chance.next() >> 11) / Double(1 << 53) }

    /// One datagram into the network (or `held`).
    func send(_ d: IKEDatagram) {
        wire.append(d)
        if hold {
            held.append(d)
            return
        }
        if blackhole(d) || roll() < impairment.loss { return }
        let copies = roll() < impairment.duplication ? 2 : 1
        for _ in 0..<copies {
            sequence += 1
            inFlight.append(InFlight(at: now.adding(seconds: roll() * impairment.maxDelay), sequence: sequence, datagram: d))
        }
    }

    /// When the next datagram in flight is due.
    var nextDelivery: IKEInstant? { inFlight.min { ($0.at, $0.sequence) < ($1.at, $1.sequence) }?.at }

    /// Takes the datagrams due by now, in the order they are delivered.
    func takeDue() -> [IKEDatagram] {
        let due = inFlight.filter { $0.at <= now }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        inFlight.removeAll { $0.at <= now }
        return due.map(\.datagram)
    }

    /// Moves the clock forward (never back).
    func advance(to instant: IKEInstant) { now = max(now, instant) }
    func advance(seconds: Double) { now = now.adding(seconds: seconds) }
}

/// Two IKE sessions wired through a `SimulationLink` driven by its fake clock.
final class SimulationNetwork {
    typealias Impairment = SimulationLink.Impairment

    let initiator: IKESession
    let responder: IKESession
    let link: SimulationLink
    var now: IKEInstant { link.now }
    /// Every datagram sent by either side, in order (before impairment).
    var wire: [IKEDatagram] { link.wire }
    private(set) var initiatorEvents: [IKEEvent] = []
    private(set) var responderEvents: [IKEEvent] = []
    /// Drops everything matching, regardless of impairment (e.g. to silence the responder).
    var blackhole: (IKEDatagram) -> Bool {
        get { link.blackhole }
        set { link.blackhole = newValue }
    }
    /// Sees every event as it is drained (true: the initiator's), e.g. for a data-plane model.
    var onEvent: (Bool, IKEEvent) -> Void = { _, _ in }
    /// When true, `drain` keeps datagrams in `held` instead of the network (manual ordering).
    var hold: Bool {
        get { link.hold }
        set { link.hold = newValue }
    }
    var held: [IKEDatagram] { link.held }

    /// The IKE SAs each session retired (RFC 7296 §2.18, §2.8.2), held and driven as the
    /// endpoint's table holds them: routed to by SPI, timed, their relays handed to their
    /// session, at most `IKESideSA.maxPerIKESA` each, gone when their session ends.
    private var retiredSAs: [[IKESideSA]] = [[], []]

    /// The side SAs a session retired that are still held.
    func retired(_ s: IKESession) -> [IKESideSA] { retiredSAs[index(s)] }
    /// Its candidate, if a collision is undecided, and the side SAs it retired.
    func sides(_ s: IKESession) -> [IKESideSA] { (s.up?.candidate.map { [$0] } ?? []) + retired(s) }

    private func index(_ s: IKESession) -> Int { s === initiator ? 0 : 1 }

    init(initiator: IKESession, responder: IKESession, impairmentSeed: UInt64 = 0, impairment: Impairment = .none) {
        self.initiator = initiator
        self.responder = responder
        self.link = SimulationLink(impairmentSeed: impairmentSeed, impairment: impairment)
    }

    /// Moves what the sessions want to send into the network and collects their events.
    func drain() {
        for session in [initiator, responder] {
            drainRetired(of: session)
            while let d = session.pollTransmit() { link.send(d) }
        }
        while let e = initiator.pollEvent() {
            initiatorEvents.append(e)
            onEvent(true, e)
        }
        while let e = responder.pollEvent() {
            responderEvents.append(e)
            onEvent(false, e)
        }
    }

    private func session(for d: IKEDatagram) -> IKESession {
        d.destination.address == initiator.local.address ? initiator : responder
    }

    /// What the endpoint does with a session's retired SAs (IKESAManager.adoptRetired/relay).
    private func drainRetired(of session: IKESession) {
        let k = index(session)
        if session.state.isTerminal { retiredSAs[k] = [] }
        while let side = session.pollRetired() { retiredSAs[k].append(side) }
        var i = 0
        while i < retiredSAs[k].count {
            while let r = retiredSAs[k][i].pollRetired() { retiredSAs[k].append(r) }
            while let d = retiredSAs[k][i].pollTransmit() { link.send(d) }
            while let relay = retiredSAs[k][i].pollRelay() {
                let ours = session.relayed(relay, now: now)
                if case .childDeletes = relay {
                    retiredSAs[k][i].answerChildDeletes(ours)
                    while let d = retiredSAs[k][i].pollTransmit() { link.send(d) }
                }
            }
            i += 1
        }
        retiredSAs[k].removeAll { $0.nextDeadline == nil }
        while retiredSAs[k].count > IKESideSA.maxPerIKESA {
            retiredSAs[k].remove(at: retiredSAs[k].firstIndex(where: \.closed) ?? 0)
        }
    }

    /// Hands a datagram to the retired SA it is addressed to, or else to the session.
    private func receive(_ d: IKEDatagram) {
        let s = session(for: d)
        let k = index(s)
        if let header = try? IKEHeader(decoding: d.bytes),
           let i = retiredSAs[k].firstIndex(where: { $0.keying.matches(header) && $0.nextDeadline != nil }) {
            retiredSAs[k][i].receive(d, header: header, now: now)
        } else {
            s.receive(d, now: now)
        }
    }

    private func fireTimers() {
        for s in [initiator, responder] {
            if let d = s.nextDeadline, d <= now { s.timeout(now: now) }
            let k = index(s)
            for i in retiredSAs[k].indices {
                if let d = retiredSAs[k][i].nextDeadline, d <= now { retiredSAs[k][i].timeout(now: now) }
            }
        }
    }

    private var retiredDeadline: IKEInstant? { retiredSAs.joined().compactMap(\.nextDeadline).min() }

    /// Runs until both sides settle (established or terminal with nothing pending) or `limit`.
    func run(limit: Double = 1_000, maxSteps: Int = 100_000) {
        initiator.start(now: now)
        drain()
        var steps = 0
        while steps < maxSteps {
            steps += 1
            let candidates = [link.nextDelivery, initiator.nextDeadline, responder.nextDeadline, retiredDeadline].compactMap { $0 }
            guard let next = candidates.min(), next.seconds(since: IKEInstant(nanoseconds: 0)) <= limit else { break }
            link.advance(to: next)
            for d in link.takeDue() {
                receive(d)
                drain()
            }
            fireTimers()
            drain()
        }
    }

    /// Delivers one datagram by hand (for cache / duplicate tests).
    func deliver(_ d: IKEDatagram) {
        receive(d)
        drain()
    }

    /// Takes the held datagrams (see `hold`), oldest first.
    func takeHeld() -> [IKEDatagram] {
        drain()
        defer { link.held = [] }
        return link.held
    }

    /// Advances the clock without delivering anything.
    func advance(seconds: Double) { link.advance(seconds: seconds) }
}

extension IKEEvent {
    var child: ChildSAParameters? {
        if case .childSAReady(let c) = self { return c }
        return nil
    }
    var failure: IKEFailure? {
        if case .ikeSAFailed(let f) = self { return f }
        return nil
    }
    var isEstablished: Bool {
        if case .ikeSAEstablished = self { return true }
        return false
    }
}

func bytes(_ s: SecureBytes?) -> [UInt8]? { s?.withUnsafeBytes { Array($0) } }
