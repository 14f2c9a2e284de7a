import CryptoCore
import IKEv2

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

    init(initiator: IKESession, responder: IKESession, impairmentSeed: UInt64 = 0, impairment: Impairment = .none) {
        self.initiator = initiator
        self.responder = responder
        self.link = SimulationLink(impairmentSeed: impairmentSeed, impairment: impairment)
    }

    /// Moves what the sessions want to send into the network and collects their events.
    func drain() {
        for session in [initiator, responder] {
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

    /// Runs until both sides settle (established or terminal with nothing pending) or `limit`.
    func run(limit: Double = 1_000, maxSteps: Int = 100_000) {
        initiator.start(now: now)
        drain()
        var steps = 0
        while steps < maxSteps {
            steps += 1
            let candidates = [link.nextDelivery, initiator.nextDeadline, responder.nextDeadline].compactMap { $0 }
            guard let next = candidates.min(), next.seconds(since: IKEInstant(nanoseconds: 0)) <= limit else { break }
            link.advance(to: next)
            for d in link.takeDue() {
                session(for: d).receive(d, now: now)
                drain()
            }
            for s in [initiator, responder] {
                if let d = s.nextDeadline, d <= now { s.timeout(now: now) }
            }
            drain()
        }
    }

    /// Delivers one datagram by hand (for cache / duplicate tests).
    func deliver(_ d: IKEDatagram) {
        session(for: d).receive(d, now: now)
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
