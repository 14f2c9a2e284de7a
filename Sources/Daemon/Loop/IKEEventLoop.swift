import Glibc
import IKEv2
import Logging
import System

/// The daemon's only thread of control: one `poll()` over every IKE socket (except the 4500
/// sockets a data plane reads; their IKE arrives through `shared.inbox`) and the signal
/// descriptor, with the timeout set to the earliest session deadline. Each wake-up reads
/// what is queued, lets due deadlines fire, and sends what the sessions produced. Nothing
/// else touches the sockets or the sessions, so nothing needs a lock.
public final class IKEEventLoop {
    public let sockets: IKESocketSet
    public let core: EndpointDriver
    private let signals: SignalDescriptor?
    private let clock: any MonotonicClock
    private let logger: Logger
    /// Datagrams read from one socket per wake-up, so one busy socket cannot starve the rest.
    private let readBudget = 64
    /// Other descriptors served from this thread (the control socket); polled after the rest.
    public var sources: [any EventLoopSource] = []
    /// Sockets a data plane reads in the daemon's place, and the inbox its IKE comes back
    /// through (`SocketSharingDataplane`); set before `run`.
    public var shared = SharedSockets()
    /// Called on SIGHUP (systemd's `reload`): re-read the topology and apply it, on this thread
    /// between two wake-ups. Nil: the reload is logged as unsupported and the daemon runs on.
    public var onReload: (() -> Void)?
    /// Told when a reload starts and ends (RELOADING=1 … READY=1); nil outside systemd.
    public var notifier: SystemdNotifier?

    /// Why `run` returned.
    public enum Stop: Equatable, Sendable {
        case signal(Int32)
        case requested
    }

    public init(sockets: IKESocketSet, core: EndpointDriver, signals: SignalDescriptor?, clock: any MonotonicClock,
                logger: Logger) {
        self.sockets = sockets
        self.core = core
        self.signals = signals
        self.clock = clock
        self.logger = logger
    }

    /// Starts the sessions and runs until a signal arrives or `shouldStop` returns true (checked
    /// after every wake-up; `maxWaitMilliseconds` bounds each wait so it is checked).
    public func run(maxWaitMilliseconds: Int32 = 60_000, shouldStop: () -> Bool = { false }) throws(DaemonError) -> Stop {
        core.start(now: clock.now())
        flush()
        // After SIGTERM/SIGINT: the IKE SAs being deleted (RFC 7296 §1.4.1), and since when.
        var closing: (signal: Int32, since: IKEInstant)?
        while true {
            if shouldStop() { return .requested }
            if let c = closing, core.liveSessionCount == 0 || clock.now().seconds(since: c.since) >= Self.closeGraceSeconds {
                return .signal(c.signal)
            }
            let polled = sockets.sockets.filter { !shared.readByDataplane.contains($0.descriptor) }
            var fds = polled.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let inboxIndex = fds.count
            if let inbox = shared.inbox { fds.append(pollfd(fd: inbox.descriptor, events: Int16(POLLIN), revents: 0)) }
            if let s = signals { fds.append(pollfd(fd: s.descriptor, events: Int16(POLLIN), revents: 0)) }
            let sourceRanges = appendSourceDescriptors(&fds)
            let deadline = ([core.nextDeadline] + sources.map(\.nextDeadline)).compactMap { $0 }.min()
            let timeout = SystemMonotonicClock.pollTimeout(until: deadline, now: clock.now(),
                                                           cap: closing == nil ? maxWaitMilliseconds : 100)
            let count = fds.count
            let ready = fds.withUnsafeMutableBufferPointer { buf in
                Syscall.retrying { poll(buf.baseAddress, nfds_t(count), timeout) }
            }
            if case .failure(let e) = ready { throw DaemonError(.system, "poll failed: \(e)", errno: e) }

            if let s = signals, let last = fds.last(where: { $0.fd == s.descriptor }), last.revents & Int16(POLLIN) != 0, let signo = s.read() {
                if signo == SIGHUP {
                    reload()
                } else {
                    logger.notice("shutting down", metadata: ["signal": "\(Self.signalName(signo))"])
                    // The peers learn at once that the tunnels are gone (a Delete of each IKE SA)
                    // rather than after their liveness checks; a second signal does not wait.
                    guard closing == nil, core.closeAll(now: clock.now()) > 0 else { return .signal(signo) }
                    closing = (signo, clock.now())
                    flush()
                    continue
                }
            }
            for (i, socket) in polled.enumerated() where fds[i].revents != 0 {
                readAll(socket)
            }
            if let inbox = shared.inbox, fds[inboxIndex].revents != 0 {
                for d in inbox.take() { core.handle(.ike(d), now: clock.now()) }
            }
            core.fireTimers(now: clock.now())
            flush()
            handleSources(fds, sourceRanges)
            // What a control request (apply, an operator command) made the sessions send.
            flush()
        }
    }

    private func reload() {
        guard let onReload else {
            logger.warning("reload not supported: SIGHUP ignored", metadata: ["signal": "SIGHUP"])
            return
        }
        logger.notice("reloading", metadata: ["signal": "SIGHUP"])
        notifier?.reloading(monotonicMicroseconds: SystemdNotifier.monotonicMicroseconds())
        onReload()
        notifier?.ready()
        flush()
    }

    private func appendSourceDescriptors(_ fds: inout [pollfd]) -> [Range<Int>] {
        sources.map { source in
            let start = fds.count
            fds += source.pollDescriptors()
            return start..<fds.count
        }
    }

    private func handleSources(_ fds: [pollfd], _ ranges: [Range<Int>]) {
        for (source, range) in zip(sources, ranges) { source.handle(fds[range], now: clock.now()) }
    }

    private func readAll(_ socket: UDPSocket) {
        for _ in 0..<readBudget {
            do {
                guard let r = try socket.receive() else { return }
                core.handle(IKESocketSet.classify(r, ports: sockets.ports), now: clock.now())
            } catch {
                core.noteReceiveFailure(error)
            }
        }
    }

    private func flush() {
        for d in core.takeOutgoing() {
            do {
                try sockets.send(d)
                core.noteSent()
            } catch {
                core.noteSendFailure(d, error)
            }
        }
    }

    /// How long a shutdown waits for the peers to answer the Deletes of the IKE SAs.
    static let closeGraceSeconds = 2.0

    static func signalName(_ signo: Int32) -> String {
        switch signo {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(signo)"
        }
    }
}
