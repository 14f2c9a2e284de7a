import ArgumentParser
import Daemon
import Foundation
import Tools

/// Which running daemon a client command (`status`, `events`) talks to: `--socket PATH`, or
/// `--node NAME` for /run/viaduct/NAME.sock, or the only socket in /run/viaduct.
struct ControlTarget: ParsableArguments {
    @Option(help: "The control socket (default: the only /run/viaduct/*.sock, or /run/viaduct/NODE.sock with --node).")
    var socket: String?

    @Option(help: "The node whose daemon to talk to (selects /run/viaduct/NODE.sock).")
    var node: String?

    /// The control socket to use. `readOnly`: the command only reads (`status`, `events`), so a
    /// user who cannot use the control socket falls back to the node's status socket
    /// (`NODE.status.sock`, `run --status-group`).
    func path(readOnly: Bool = false) throws -> String {
        if let socket { return socket }
        if let node { return ControlSocketDiscovery.usable(NodeControl.defaultSocketPath(node: node), readOnly: readOnly) }
        let dir = ControlSocketDiscovery.directory
        switch ControlSocketDiscovery.find(in: dir) {
        case .one(let path): return ControlSocketDiscovery.usable(path, readOnly: readOnly)
        case .none:
            Output.error("viaduct: error: no control socket in \(dir) (is 'viaduct run' running? use --socket PATH)")
        case .several(let nodes):
            Output.error("viaduct: error: several daemons run here (\(nodes.joined(separator: ", "))); pick one with --node NAME")
        }
        throw ExitCode(1)
    }
}
