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

    /// The control socket to use. `readOnly`: the command only reads (`status`, `events`), so a
    /// user who cannot use the control socket falls back to the node's status socket
    /// (`NODE.status.sock`, `run --status-group`).
    func path(readOnly: Bool = false) throws -> String {
        if let socket { return socket }
        if let node { return Self.usable(NodeControl.defaultSocketPath(node: node), readOnly: readOnly) }
        let dir = "/run/viaduct"
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".sock") && !$0.hasSuffix(".status.sock") }.sorted()
        if found.count == 1 { return Self.usable("\(dir)/\(found[0])", readOnly: readOnly) }
        if found.isEmpty {
            Output.error("viaduct: error: no control socket in \(dir) (is 'viaduct run' running? use --socket PATH)")
        } else {
            Output.error("viaduct: error: several daemons run here (\(found.map { $0.replacingOccurrences(of: ".sock", with: "") }.joined(separator: ", "))); pick one with --node NAME")
        }
        throw ExitCode(1)
    }

    /// `control`, or its status socket when only that one is open to this user.
    static func usable(_ control: String, readOnly: Bool) -> String {
        guard readOnly, access(control, W_OK) != 0 else { return control }
        let status = NodeControl.statusSocketPath(beside: control)
        return access(status, W_OK) == 0 ? status : control
    }
}
