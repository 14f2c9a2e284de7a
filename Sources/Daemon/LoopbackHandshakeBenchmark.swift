import Crypto
import CryptoCore
import Glibc
import IKEv2

/// Handshakes through real UDP sockets on the loopback interface: an initiator socket and a
/// responder socket, the responder creating a session for every IKE_SA_INIT it receives (as the
/// daemon does) and dispatching later messages by SPI, `window` handshakes in flight. One thread
/// drives both sides (the private keys are not `Sendable`), so the figure is what one core does
/// for both ends, including the kernel's socket path — the in-memory figure minus no work.
public struct LoopbackHandshakeResult: Sendable {
    public var completed: Int
    public var seconds: Double
    /// Setup times (first IKE_SA_INIT sent to the initiator's Child SA), sorted, in seconds.
    public var setupTimes: [Double]
    public var retransmissions: Int

    public var rate: Double { seconds > 0 ? Double(completed) / seconds : 0 }
    public func percentile(_ p: Double) -> Double {
        setupTimes.isEmpty ? 0 : setupTimes[min(setupTimes.count - 1, Int(Double(setupTimes.count) * p))]
    }
}

extension HandshakeBenchmark {
    public func runOverLoopback(total: Int, window: Int, initiatorPort: UInt16, responderPort: UInt16) throws -> LoopbackHandshakeResult {
        let a = IKEEndpoint(address: [127, 0, 0, 1], port: initiatorPort)
        let b = IKEEndpoint(address: [127, 0, 0, 1], port: responderPort)
        let initiatorSocket = try UDPSocket(binding: a)
        let responderSocket = try UDPSocket(binding: b)
        var iConfig = initiatorConfig, rConfig = responderConfig
        (iConfig.local, iConfig.peer, rConfig.local, rConfig.peer) = (a, b, b, a)

        let clock = ContinuousClock()
        let origin = clock.now
        func now() -> IKEInstant {
            let d = clock.now - origin
            return IKEInstant(nanoseconds: UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000))
        }
        var initiators: [UInt64: (session: IKESession, started: IKEInstant)] = [:]
        var responders: [UInt64: IKESession] = [:]
        var started = 0, completed = 0, retransmissions = 0
        var setupTimes: [Double] = []
        setupTimes.reserveCapacity(total)

        func flush(_ s: IKESession, _ socket: UDPSocket) throws {
            while let d = s.pollTransmit() { try socket.send(d.bytes, to: d.destination) }
        }
        while completed < total {
            while initiators.count < window && started < total {
                let s = IKESession(configuration: iConfig, cryptoProvider: OpenSSLCryptoProvider(),
                                   random: OpenSSLRandomSource(), authenticator: try initiatorAuth())
                let t = now()
                s.start(now: t)
                initiators[s.initiatorSPI.rawValue] = (s, t)
                try flush(s, initiatorSocket)
                started += 1
            }
            var fds = [pollfd(fd: initiatorSocket.descriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: responderSocket.descriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 100)
            let t = now()
            // Responder side: new SAs get a session; the rest go to theirs by initiator SPI.
            while let r = try responderSocket.receive() {
                guard let route = IKEDatagramRouting(r.bytes) else { continue }
                let datagram = IKEDatagram(bytes: r.bytes, source: r.source, destination: r.destination)
                let session: IKESession
                if let s = responders[route.initiatorSPI] {
                    session = s
                } else if route.isNewSARequest {
                    session = IKESession(configuration: rConfig, cryptoProvider: OpenSSLCryptoProvider(),
                                         random: OpenSSLRandomSource(), authenticator: try responderAuth())
                    responders[route.initiatorSPI] = session
                } else { continue }
                session.receive(datagram, now: t)
                try flush(session, responderSocket)
                while let e = session.pollEvent() {
                    switch e {
                    case .childSAReady: responders[route.initiatorSPI] = nil
                    case .ikeSAFailed(let f): throw f
                    default: break
                    }
                }
            }
            while let r = try initiatorSocket.receive() {
                guard let route = IKEDatagramRouting(r.bytes), let entry = initiators[route.initiatorSPI] else { continue }
                entry.session.receive(IKEDatagram(bytes: r.bytes, source: r.source, destination: r.destination), now: t)
                try flush(entry.session, initiatorSocket)
                while let e = entry.session.pollEvent() {
                    switch e {
                    case .childSAReady:
                        initiators[route.initiatorSPI] = nil
                        setupTimes.append(now().seconds(since: entry.started))
                        completed += 1
                    case .ikeSAFailed(let f): throw f
                    default: break
                    }
                }
            }
            // Timers (retransmissions), in case the loopback ever drops a datagram.
            for (_, entry) in initiators where (entry.session.nextDeadline.map { $0 <= t } ?? false) {
                entry.session.timeout(now: t)
                while let d = entry.session.pollTransmit() {
                    try initiatorSocket.send(d.bytes, to: d.destination)
                    retransmissions += 1
                }
            }
        }
        let elapsed = clock.now - origin
        return LoopbackHandshakeResult(completed: completed,
                                       seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                       setupTimes: setupTimes.sorted(), retransmissions: retransmissions)
    }
}
