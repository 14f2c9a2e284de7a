import Glibc
import System
import IKEv2

/// The metrics endpoint, served from the daemon's own thread like the control socket
/// (`EventLoopSource`): no thread, no lock, no SwiftNIO. Each connection sends one request
/// head and gets one answer, then is closed. Bounded: at most `maxConnections` at once, a
/// request head of at most `MetricsHTTP.maxRequestHead` bytes, and a connection that has not
/// been answered and flushed within `timeoutSeconds` is dropped (checked at every wake-up of
/// the loop, which wakes at least once a minute, and sooner for any new connection). Owns the
/// listening socket and every connection.
public final class MetricsServer: EventLoopSource {
    private final class Connection {
        private var file: FileDescriptor?
        var descriptor: Int32 { file?.rawValue ?? -1 }
        var input: [UInt8] = []
        var output: [UInt8] = []
        var answered = false
        let deadline: IKEInstant

        init(_ file: FileDescriptor, deadline: IKEInstant) {
            self.file = file
            self.deadline = deadline
        }

        deinit { close() }

        func close() {
            guard file != nil else { return }
            file = nil
        }
    }

    private let listener: MetricsListener
    private var connections: [Connection] = []
    private let metrics: (IKEInstant) -> [UInt8]
    static let maxConnections = 8
    static let timeoutSeconds = 5.0

    /// - Parameter metrics: the exposition text at a given time; called once per scrape.
    init(listener: MetricsListener, metrics: @escaping (IKEInstant) -> [UInt8]) {
        self.listener = listener
        self.metrics = metrics
    }

    public convenience init(address: MetricsAddress, metrics: @escaping (IKEInstant) -> [UInt8]) throws(DaemonError) {
        self.init(listener: try MetricsListener(address: address), metrics: metrics)
    }

    public var address: MetricsAddress { listener.address }
    var connectionCount: Int { connections.count }

    public func pollDescriptors() -> [pollfd] {
        var fds = [pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0)]
        for c in connections where c.descriptor >= 0 {
            fds.append(pollfd(fd: c.descriptor, events: c.answered ? Int16(POLLOUT) : Int16(POLLIN), revents: 0))
        }
        return fds
    }

    public func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant) {
        for p in ready where p.revents != 0 {
            if p.fd == listener.descriptor {
                acceptAll(now: now)
                continue
            }
            guard let c = connections.first(where: { $0.descriptor == p.fd }) else { continue }
            if !c.answered && p.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { read(c, now: now) }
            if c.answered && c.descriptor >= 0 && flush(c) { c.close() }
        }
        for c in connections where now >= c.deadline { c.close() }
        connections.removeAll { $0.descriptor < 0 }
    }

    public func close() {
        for c in connections { c.close() }
        connections.removeAll()
        listener.close()
    }

    private func acceptAll(now: IKEInstant) {
        while let fd = listener.accept() {
            let c = Connection(fd, deadline: now.adding(seconds: Self.timeoutSeconds))
            if connections.filter({ $0.descriptor >= 0 }).count >= Self.maxConnections {
                // Full: make room from clients past their time, else turn this one away.
                connections.first { now >= $0.deadline }?.close()
                connections.removeAll { $0.descriptor < 0 }
                if connections.count >= Self.maxConnections { c.close(); continue }
            }
            connections.append(c)
        }
    }

    private func read(_ c: Connection, now: IKEInstant) {
        var buf = [UInt8](repeating: 0, count: 4096)
        let fd = c.descriptor
        while true {
            let r = buf.withUnsafeMutableBytes { raw in Syscall.retrying { Glibc.read(fd, raw.baseAddress, raw.count) } }
            switch r {
            case .success(0):
                // The client may half-close after its request; answer it if it is complete.
                let parsed = MetricsHTTP.parse(c.input)
                if parsed == .incomplete { c.close() } else { answer(c, parsed, now: now) }
                return
            case .success(let n):
                c.input += buf[0..<n]
                if c.input.count > MetricsHTTP.maxRequestHead { return answer(c, .tooLarge, now: now) }
            case .failure(let e) where e == .wouldBlock:
                let parsed = MetricsHTTP.parse(c.input)
                if parsed != .incomplete { answer(c, parsed, now: now) }
                return
            case .failure:
                c.close()
                return
            }
        }
    }

    private func answer(_ c: Connection, _ parsed: MetricsHTTP.Parse, now: IKEInstant) {
        c.output = MetricsHTTP.respond(to: parsed) { metrics(now) }
        c.input = []
        c.answered = true
    }

    /// Writes what the socket takes; true when done (everything sent, or the peer is gone).
    private func flush(_ c: Connection) -> Bool {
        let fd = c.descriptor
        while !c.output.isEmpty {
            let r = c.output.withUnsafeBytes { raw in
                Syscall.retrying { Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            switch r {
            case .success(let n): c.output.removeFirst(n)
            case .failure(let e) where e == .wouldBlock: return false
            case .failure: return true
            }
        }
        return true
    }
}
