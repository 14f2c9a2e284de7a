import CryptoCore
import IKEv2

/// Two IKE sessions wired through an in-memory network driven by a fake clock. The network can
/// drop, duplicate and delay (hence reorder) datagrams, all decided by a seeded generator, so a
/// run is a pure function of its seeds.
final class SimulationNetwork {
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

    let initiator: IKESession
    let responder: IKESession
    private(set) var now = IKEInstant(nanoseconds: 0)
    private var chance: SeededRandomSource
    private let impairment: Impairment
    private var inFlight: [InFlight] = []
    private var sequence = 0
    /// Every datagram sent by either side, in order (before impairment).
    private(set) var wire: [IKEDatagram] = []
    private(set) var initiatorEvents: [IKEEvent] = []
    private(set) var responderEvents: [IKEEvent] = []
    /// Drops everything matching, regardless of impairment (e.g. to silence the responder).
    var blackhole: (IKEDatagram) -> Bool = { _ in false }
    /// Sees every event as it is drained (true: the initiator's), e.g. for a data-plane model.
    var onEvent: (Bool, IKEEvent) -> Void = { _, _ in }
    /// When false, `drain` keeps datagrams in `held` instead of the network (manual ordering).
    var hold = false
    private(set) var held: [IKEDatagram] = []

    init(initiator: IKESession, responder: IKESession, impairmentSeed: UInt64 = 0, impairment: Impairment = .none) {
        self.initiator = initiator
        self.responder = responder
        self.chance = SeededRandomSource(seed: impairmentSeed)
        self.impairment = impairment
    }

    private func roll() -> Double { Double(chance.next() >> 11) / Double(1 << 53) }

    /// Moves what the sessions want to send into the network and collects their events.
    func drain() {
        for session in [initiator, responder] {
            while let d = session.pollTransmit() {
                wire.append(d)
                if hold {
                    held.append(d)
                    continue
                }
                if blackhole(d) || roll() < impairment.loss { continue }
                let copies = roll() < impairment.duplication ? 2 : 1
                for _ in 0..<copies {
                    sequence += 1
                    inFlight.append(InFlight(at: now.adding(seconds: roll() * impairment.maxDelay), sequence: sequence, datagram: d))
                }
            }
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
            let nextDelivery = inFlight.min { ($0.at, $0.sequence) < ($1.at, $1.sequence) }?.at
            let candidates = [nextDelivery, initiator.nextDeadline, responder.nextDeadline].compactMap { $0 }
            guard let next = candidates.min(), next.seconds(since: IKEInstant(nanoseconds: 0)) <= limit else { break }
            now = max(now, next)
            let due = inFlight.filter { $0.at <= now }.sorted { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
            inFlight.removeAll { $0.at <= now }
            for item in due {
                session(for: item.datagram).receive(item.datagram, now: now)
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
        defer { held = [] }
        return held
    }

    /// Advances the clock without delivering anything.
    func advance(seconds: Double) { now = now.adding(seconds: seconds) }
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
