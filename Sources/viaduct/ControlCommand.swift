import ArgumentParser
import Daemon
import Foundation

/// One request, one answer: exit 0 when the daemon started the exchange, 1 with its reason otherwise.
enum ControlCommand {
    static func send(_ command: SessionCommand, peer: String, target: ControlTarget) throws {
        let path = try target.path()
        do {
            let client = try ControlClient(path: path)
            defer { client.close() }
            try client.send(.init(command: command.rawValue, peer: peer))
            guard let reply = try client.readReply() else {
                Output.error("viaduct: error: the daemon at \(path) closed the connection without answering")
                throw ExitCode(1)
            }
            guard reply.ok else {
                Output.error("viaduct: error: \(reply.error?.message ?? "the daemon refused the request")")
                throw ExitCode(1)
            }
            print("\(command.rawValue) \(peer): started")
        } catch let e as DaemonError {
            Output.error("viaduct: error: \(e.message)")
            throw ExitCode(1)
        }
    }
}
