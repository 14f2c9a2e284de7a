import ArgumentParser
import Daemon
import Foundation
import IKEv2

/// One request, one answer: exit 0 when the daemon started the exchange, 1 with its reason otherwise.
enum ControlCommand {
    static func send(_ command: SessionCommand, peer: String, target: ControlTarget) throws {
        let path = try target.path()
        try reportingFailures {
            let client = try ControlClient(path: path)
            defer { client.close() }
            _ = try exchange(client, .init(command: command.rawValue, peer: peer))
            print("\(command.rawValue) \(peer): started")
        }
    }

    /// One `status` request to the daemon at `path` (`status`, `graph`, the lab). Throws a
    /// `DaemonError` when it cannot be reached, its `ErrorBody` when it refuses.
    static func status(at path: String) throws -> NodeStatus {
        let client = try ControlClient(path: path)
        defer { client.close() }
        guard let status = try exchange(client, .init(command: "status")).status else {
            throw DaemonError(.system, "the daemon at \(path) sent no status")
        }
        return status
    }

    /// `confirm` or `rollback` of a pending apply: one request, `done` printed on success.
    static func settle(_ command: String, done: String, target: ControlTarget) throws {
        let path = try target.path()
        try reportingFailures {
            let client = try ControlClient(path: path)
            defer { client.close() }
            _ = try exchange(client, .init(command: command))
            print(done)
        }
    }

    /// Runs a conversation with the daemon; a connection failure or a refusal becomes
    /// `viaduct: error: …` on stderr and exit status 1.
    static func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as DaemonError {
            Output.error("viaduct: error: \(e.message)")
            throw ExitCode(1)
        } catch let e as ControlMessage.ErrorBody {
            Output.error("viaduct: error: \(e.message)")
            throw ExitCode(1)
        }
    }

    /// One request, its reply; a refusal is thrown as the daemon's `ErrorBody`, a closed
    /// connection as a `DaemonError`.
    static func exchange(_ client: ControlClient, _ request: ControlMessage.Request) throws -> ControlMessage.Reply {
        try client.send(request)
        guard let reply = try client.readReply() else {
            throw DaemonError(.system, "the daemon at \(client.path) closed the connection without answering")
        }
        if !reply.ok { throw reply.error ?? ControlMessage.ErrorBody(code: "refused", message: "the daemon refused the request") }
        return reply
    }
}
