import ArgumentParser
import Daemon
import Foundation

/// Which running daemon a client command (`status`, `events`) talks to: `--socket PATH`, or
/// `--node NAME` for /run/viaduct/NAME.sock, or the only socket in /run/viaduct.
struct ControlTarget: ParsableArguments {
    @Option(help: "The control socket (default: the only /run/viaduct/*.sock, or /run/viaduct/NODE.sock with --node).")
    var socket: String?

    @Option(help: "The node whose daemon to talk to (selects /run/viaduct/NODE.sock).")
    var node: String?

    func path() throws -> String {
        if let socket { return socket }
        if let node { return NodeControl.defaultSocketPath(node: node) }
        let dir = "/run/viaduct"
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".sock") }.sorted()
        if found.count == 1 { return "\(dir)/\(found[0])" }
        if found.isEmpty {
            Output.error("viaduct: error: no control socket in \(dir) (is 'viaduct run' running? use --socket PATH)")
        } else {
            Output.error("viaduct: error: several daemons run here (\(found.map { $0.replacingOccurrences(of: ".sock", with: "") }.joined(separator: ", "))); pick one with --node NAME")
        }
        throw ExitCode(1)
    }
}
