import ArgumentParser
import Daemon
import Foundation
import Tools

/// `viaduct events`: follows a running daemon's tunnel transitions until interrupted.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream a running daemon's tunnel transitions (IKE/Child SA up, down, failed).",
        discussion: """
            One line per transition, as it happens: time, peer, what happened, the SPIs, and the \
            detail (proposal and peer identity when up, the reason in plain words when failed). \
            --json prints each event object as the daemon sends it (docs/daemon.md). Runs until \
            interrupted or the daemon stops.

            EVENTS
            \(TunnelEvent.Kind.allCases.map { "  \($0.rawValue.padding(toLength: 21, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))

            EXAMPLES
              viaduct events
              viaduct events --socket /run/viaduct-lab/dci-two-site/dc1.sock --json
            """)

    @OptionGroup var target: ControlTarget

    @Flag(help: "Print one JSON object per event.")
    var json = false

    func run() throws {
        let path = try target.path(readOnly: true)
        do {
            let client = try ControlClient(path: path)
            defer { client.close() }
            try client.send(.init(command: "events"))
            let formatter = ISO8601DateFormatter()
            while let reply = try client.readReply() {
                if !reply.ok {
                    Output.error("viaduct: error: \(reply.error?.message ?? "the daemon refused the request")")
                    throw ExitCode(1)
                }
                guard let e = reply.event else { continue }
                // Written unbuffered, so a pipe (`viaduct events | grep`) sees each event at once.
                let line = json ? String(decoding: ControlMessage.encodeLine(e), as: UTF8.self)
                    : "\(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(e.at)))) \(StatusText.render(e))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch let e as DaemonError {
            Output.error("viaduct: error: \(e.message)")
            throw ExitCode(1)
        }
    }
}
