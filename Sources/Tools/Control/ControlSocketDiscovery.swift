import Daemon
import Foundation
import Glibc

/// Which running daemon a client command (`status`, `events`, `rekey`, ...) talks to when no
/// `--socket` is given: the node's socket, or the only control socket in the directory; a user
/// who may only read falls back to the status socket beside it (`run --status-group`).
public enum ControlSocketDiscovery {
    public enum Found: Hashable, Sendable {
        case one(path: String)
        case none
        /// The nodes whose daemons have a socket there, sorted.
        case several(nodes: [String])
    }

    public static let directory = "/run/viaduct"

    /// The control sockets (not the status sockets) in `directory`.
    public static func find(in directory: String = Self.directory) -> Found {
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".sock") && !$0.hasSuffix(".status.sock") }.sorted()
        if found.count == 1 { return .one(path: "\(directory)/\(found[0])") }
        if found.isEmpty { return .none }
        return .several(nodes: found.map { $0.replacingOccurrences(of: ".sock", with: "") })
    }

    /// `control`, or its status socket when the command only reads (`readOnly`) and only that
    /// one is open to this user.
    public static func usable(_ control: String, readOnly: Bool) -> String {
        guard readOnly, access(control, W_OK) != 0 else { return control }
        let status = NodeControl.statusSocketPath(beside: control)
        return access(status, W_OK) == 0 ? status : control
    }
}
