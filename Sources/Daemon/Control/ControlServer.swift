import Glibc
import IKEv2

/// Serves the control protocol (`ControlMessage`) on a `ControlSocket`, from the daemon's own
/// thread: the event loop polls its descriptors (`EventLoopSource`), so a status reply is a
/// consistent snapshot taken between two wake-ups and needs no lock. Only clients with the
/// daemon's uid or root are served. Owns the listening socket and every client connection.
public final class ControlServer: EventLoopSource {
    private let socket: ControlSocket
    private var connections: [ControlConnection] = []
    private let status: (IKEInstant) -> NodeStatus
    /// Runs an operator command; nil on success, else why not.
    private let perform: (SessionCommand, String, IKEInstant) -> String?
    private let ownUID = geteuid()
    static let maxConnections = 32
    /// Answers `apply`, `confirm` and `rollback`; nil: the daemon takes no plan changes.
    public var applier: ControlApplyHandler?
    /// The status socket: `status` and `events` only, for anyone the socket file lets in (its
    /// group); no uid check, nothing that changes the daemon.
    public let readOnly: Bool

    public init(socket: ControlSocket, readOnly: Bool = false, status: @escaping (IKEInstant) -> NodeStatus,
                perform: @escaping (SessionCommand, String, IKEInstant) -> String? = { _, _, _ in "not supported" }) {
        self.socket = socket
        self.readOnly = readOnly
        self.status = status
        self.perform = perform
    }

    public var nextDeadline: IKEInstant? { applier?.nextDeadline }

    public var path: String { socket.path }
    var subscriberCount: Int { connections.filter(\.subscribed).count }

    public func pollDescriptors() -> [pollfd] {
        var fds = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)]
        for c in connections where c.isOpen {
            fds.append(pollfd(fd: c.descriptor, events: Int16(POLLIN) | (c.output.isEmpty ? 0 : Int16(POLLOUT)), revents: 0))
        }
        return fds
    }

    public func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant) {
        applier?.fireTimers(now: now)
        for p in ready where p.revents != 0 {
            if p.fd == socket.descriptor {
                acceptAll()
                continue
            }
            guard let c = connections.first(where: { $0.descriptor == p.fd }) else { continue }
            if p.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                guard let lines = c.readLines() else { c.close(); continue }
                for line in lines where !line.isEmpty { answer(line, on: c, now: now) }
            }
            if c.isOpen && !c.flush() { c.close() }
        }
        connections.removeAll { !$0.isOpen }
    }

    /// Sends a transition to every `events` subscriber; drops those that stopped reading.
    public func publish(_ event: TunnelEvent) {
        let line = ControlMessage.encodeLine(ControlMessage.Reply(ok: true, event: event))
        for c in connections where c.subscribed && c.isOpen {
            if !c.enqueue(line) || !c.flush() { c.close() }
        }
        connections.removeAll { !$0.isOpen }
    }

    public func close() {
        for c in connections { c.close() }
        connections.removeAll()
        socket.close()
    }

    private func acceptAll() {
        while let fd = socket.accept() {
            let c = ControlConnection(fd, maxLine: readOnly ? ControlMessage.maxRequestLine : ControlMessage.maxApplyRequestLine)
            guard connections.count < Self.maxConnections else { c.close(); continue }
            if !readOnly, let uid = c.peerUID(), uid != 0 && uid != ownUID { c.close(); continue }
            connections.append(c)
        }
    }

    private func answer(_ line: [UInt8], on c: ControlConnection, now: IKEInstant) {
        let reply: ControlMessage.Reply
        let request = ControlMessage.decode(ControlMessage.Request.self, line: line)
        switch request?.command {
        case let name? where readOnly && name != "status" && name != "events":
            reply = ControlMessage.Reply(ok: false, error: .init(code: "read-only",
                                                                 message: "'\(name)' needs the control socket (root); this status socket answers status and events only"))
        case let name? where SessionCommand(rawValue: name) != nil:
            if let command = SessionCommand(rawValue: name), let peer = request?.peer {
                if let error = perform(command, peer, now) {
                    reply = ControlMessage.Reply(ok: false, error: .init(code: "not-applied", message: error))
                } else {
                    reply = ControlMessage.Reply(ok: true)
                }
            } else {
                reply = ControlMessage.Reply(ok: false, error: .init(code: "bad-request", message: "\(name) needs a \"peer\""))
            }
        case "status"?:
            reply = ControlMessage.Reply(ok: true, status: status(now))
        case "events"?:
            c.subscribed = true
            reply = ControlMessage.Reply(ok: true)
        case "apply"?, "confirm"?, "rollback"?:
            guard let applier, let request = ControlMessage.decode(ControlMessage.Request.self, line: line) else {
                reply = ControlMessage.Reply(ok: false, error: .init(code: "unsupported", message: "this daemon takes no plan changes"))
                break
            }
            switch request.command {
            case "apply": reply = applier.apply(request, now: now)
            case "confirm": reply = applier.confirm()
            default: reply = applier.rollback(now: now)
            }
        case let other?:
            reply = ControlMessage.Reply(ok: false, error: .init(code: "unknown-command",
                                                                 message: "unknown command '\(other)'; use status, events, apply, confirm, rollback, \(SessionCommand.allCases.map(\.rawValue).joined(separator: ", "))"))
        case nil:
            reply = ControlMessage.Reply(ok: false, error: .init(code: "bad-request",
                                                                 message: #"a request is one JSON object per line, e.g. {"command":"status"}"#))
        }
        if !c.enqueue(ControlMessage.encodeLine(reply)) { c.close() }
    }
}
