import ViaductCrypto
import CryptoCore
import Daemon
import Glibc
import IKEv2

/// Handshakes through real UDP sockets on the loopback interface, the two ends on two threads
/// (the caller starts them): the responder half creates a session for every IKE_SA_INIT it
/// receives and dispatches later messages by SPI, as the daemon does; the initiator half keeps
/// `window` handshakes in flight. Each half owns its socket and its sessions; they share only
/// the immutable benchmark (credentials, configurations).
public struct LoopbackHandshakeResult: Sendable {
    public var completed: Int
    public var seconds: Double
    /// Setup times (first IKE_SA_INIT sent to the initiator's Child SA), sorted, in seconds.
    public var setupTimes: [Double]
    public var retransmissions: Int
    /// CPU time of the initiators' thread and of the responder's thread (CLOCK_THREAD_CPUTIME_ID):
    /// what each end costs, whatever share of the machine the benchmark got.
    public var initiatorCPUSeconds: Double
    public var responderCPUSeconds: Double

    public var rate: Double { seconds > 0 ? Double(completed) / seconds : 0 }
    public func percentile(_ p: Double) -> Double {
        setupTimes.isEmpty ? 0 : setupTimes[min(setupTimes.count - 1, Int(Double(setupTimes.count) * p))]
    }
}

extension HandshakeBenchmark {
    static func loopback(_ port: UInt16) -> IKEEndpoint { IKEEndpoint(address: [127, 0, 0, 1], port: port) }

    /// The responder half: binds 127.0.0.1:`port`, calls `ready`, then answers until `stop`
    /// returns true. Returns the number of responder-side Child SAs and this thread's CPU time.
    public func serveLoopbackResponder(port: UInt16, initiatorPort: UInt16, ready: @Sendable () -> Void,
                                       stop: @Sendable () -> Bool) throws -> (completed: Int, cpuSeconds: Double) {
        let cpuAtStart = Self.threadCPUSeconds()
        let socket = try UDPSocket(binding: Self.loopback(port))
        var config = responderConfig
        (config.local, config.peer) = (Self.loopback(port), Self.loopback(initiatorPort))
        ready()
        let clock = ContinuousClock()
        let origin = clock.now
        var responders: [UInt64: IKESession] = [:]
        var completed = 0
        while !stop() {
            var fds = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 1, 20)
            let t = IKEInstant(since: origin, clock: clock)
            // New SAs get a session; the rest go to theirs by initiator SPI.
            while let r = try socket.receive() {
                guard let header = try? IKEHeader(decoding: r.bytes) else { continue }
                let datagram = IKEDatagram(bytes: r.bytes, source: r.source, destination: r.destination)
                let session: IKESession
                if let s = responders[header.initiatorSPI.rawValue] {
                    session = s
                } else if header.isNewSARequest {
                    session = IKESession(configuration: config, cryptoProvider: OpenSSLCryptoProvider(),
                                         random: OpenSSLRandomSource(), authenticator: responderAuth)
                    responders[header.initiatorSPI.rawValue] = session
                } else { continue }
                session.receive(datagram, header: header, now: t)
                while let d = session.pollTransmit() { try socket.send(d.bytes, to: d.destination) }
                while let e = session.pollEvent() {
                    switch e {
                    case .childSAReady:
                        responders[header.initiatorSPI.rawValue] = nil
                        completed += 1
                    case .ikeSAFailed(let f): throw f
                    default: break
                    }
                }
            }
        }
        return (completed, Self.threadCPUSeconds() - cpuAtStart)
    }

    /// The initiator half: `total` handshakes from 127.0.0.1:`port` to `responderPort`, `window`
    /// in flight. Stops early (with what it has) when `stop` returns true.
    public func runLoopbackInitiators(total: Int, window: Int, port: UInt16, responderPort: UInt16,
                                      stop: @Sendable () -> Bool) throws -> LoopbackHandshakeResult {
        let cpuAtStart = Self.threadCPUSeconds()
        let socket = try UDPSocket(binding: Self.loopback(port))
        var config = initiatorConfig
        (config.local, config.peer) = (Self.loopback(port), Self.loopback(responderPort))
        let clock = ContinuousClock()
        let origin = clock.now
        var initiators: [UInt64: (session: IKESession, started: IKEInstant)] = [:]
        var started = 0, completed = 0, retransmissions = 0
        var setupTimes: [Double] = []
        setupTimes.reserveCapacity(total)
        while completed < total && !stop() {
            while initiators.count < window && started < total {
                let s = IKESession(configuration: config, cryptoProvider: OpenSSLCryptoProvider(),
                                   random: OpenSSLRandomSource(), authenticator: initiatorAuth)
                let t = IKEInstant(since: origin, clock: clock)
                s.start(now: t)
                initiators[s.initiatorSPI.rawValue] = (s, t)
                while let d = s.pollTransmit() { try socket.send(d.bytes, to: d.destination) }
                started += 1
            }
            var fds = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 1, 20)
            let t = IKEInstant(since: origin, clock: clock)
            while let r = try socket.receive() {
                guard let header = try? IKEHeader(decoding: r.bytes), let entry = initiators[header.initiatorSPI.rawValue] else { continue }
                entry.session.receive(IKEDatagram(bytes: r.bytes, source: r.source, destination: r.destination), header: header, now: t)
                while let d = entry.session.pollTransmit() { try socket.send(d.bytes, to: d.destination) }
                while let e = entry.session.pollEvent() {
                    switch e {
                    case .childSAReady:
                        initiators[header.initiatorSPI.rawValue] = nil
                        setupTimes.append(IKEInstant(since: origin, clock: clock).seconds(since: entry.started))
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
                    try socket.send(d.bytes, to: d.destination)
                    retransmissions += 1
                }
            }
        }
        let elapsed = clock.now - origin
        return LoopbackHandshakeResult(completed: completed,
                                       seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                       setupTimes: setupTimes.sorted(), retransmissions: retransmissions,
                                       initiatorCPUSeconds: Self.threadCPUSeconds() - cpuAtStart, responderCPUSeconds: 0)
    }

    /// CPU time the calling thread has used.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension IKEInstant {
    /// Monotonic time since `origin`, for the benchmark's engines.
    init(since origin: ContinuousClock.Instant, clock: ContinuousClock) {
        let d = clock.now - origin
        self.init(nanoseconds: UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000))
    }
}
