import ArgumentParser
import Daemon
import Foundation
import IKEv2
import Tools

/// One request, one answer: exit 0 when the daemon started the exchange, 1 with its reason otherwise.
enum ControlCommand {
    static func send(_ command: SessionCommand, peer: String, target: ControlTarget) throws {
        let path = try target.path()
        try reportingFailures {
            let client = try ControlClient(path: path)
            defer { client.close() }
            _ = try client.exchange(.init(command: command.rawValue, peer: peer))
            print("\(command.rawValue) \(peer): started")
        }
    }

    /// `confirm` or `rollback` of a pending apply: one request, `done` printed on success.
    static func settle(_ command: String, done: String, target: ControlTarget) throws {
        let path = try target.path()
        try reportingFailures {
            let client = try ControlClient(path: path)
            defer { client.close() }
            _ = try client.exchange(.init(command: command))
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
}
