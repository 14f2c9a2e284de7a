import Foundation
import Topology

/// The control protocol, one JSON object per line in each direction (UTF-8, `\n`-terminated,
/// at most 4096 bytes per request line). The client sends a request:
///
///     {"command":"status"}     one reply: {"ok":true,"status":{...NodeStatus, snake_case}}
///     {"command":"events"}     {"ok":true} then {"ok":true,"event":{...TunnelEvent}} per transition,
///                              until the client closes the connection
///     {"command":"rekey-ike","peer":"dc2"}     {"ok":true} once the exchange is started; likewise
///                              rekey-child, delete-child, delete-ike (`SessionCommand`); the
///                              outcome shows in `events` and `status`
///
///     {"command":"apply","file":"/abs/topology.yaml","topology":"version: 1\n...","dry_run":true}
///                              one reply: {"ok":true,"apply":{"applied":false,"diff":{...NodePlanDiff}}}
///     {"command":"apply","file":"/abs/topology.yaml","confirm_seconds":30}
///                              {"ok":true,"apply":{"applied":true,"diff":{...},"rollback_in_seconds":30}}
///                              or {"ok":false,"error":{"code":"invalid-topology"|"refused",...}}
///                              with nothing changed
///     {"command":"confirm"}    keeps an apply made with confirm_seconds; {"ok":true}, or
///                              {"ok":false,"error":{"code":"nothing-to-confirm",...}}
///     {"command":"rollback"}   restores the plan from before an unconfirmed apply now; {"ok":true},
///                              or {"ok":false,"error":{"code":"nothing-to-roll-back",...}}
///
/// Anything else gets `{"ok":false,"error":{"code":"unknown-command"|"bad-request","message":"..."}}`
/// and the connection stays open. A client that cannot keep up with the event stream is
/// disconnected rather than allowed to grow the daemon's memory. Fields are only ever added.
/// `apply` parses the topology text the client sent (or, without it, reads the file itself),
/// resolves its relative paths against the file's directory, validates and plans it for its own
/// node. Credential files are read by the daemon: they must be where it can see them.
public enum ControlMessage {
    public struct Request: Codable, Hashable, Sendable {
        public var command: String
        /// `apply`: the topology file, an absolute path: where its relative paths start, and
        /// the name in its diagnostics.
        public var file: String?
        /// `apply`: the topology's text, as the client read it. The daemon parses this rather
        /// than reading `file`, which it may not see (systemd's PrivateTmp and ProtectHome give
        /// it its own /tmp and no /home). Absent: the daemon reads `file` (older clients).
        public var topology: String?
        /// `apply`: only compute and return the diff.
        public var dryRun: Bool?
        /// `apply`: roll back unless `confirm` arrives within this many seconds.
        public var confirmSeconds: Double?
        /// For `rekey-ike`, `rekey-child`, `delete-child`, `delete-ike`: the peer (gateway name).
        public var peer: String?

        public init(command: String, file: String? = nil, topology: String? = nil, dryRun: Bool? = nil,
                    confirmSeconds: Double? = nil, peer: String? = nil) {
            self.command = command
            self.file = file
            self.topology = topology
            self.dryRun = dryRun
            self.confirmSeconds = confirmSeconds
            self.peer = peer
        }
    }

    public struct ApplyResult: Codable, Hashable, Sendable {
        public var applied: Bool
        public var diff: NodePlanDiff
        public var rollbackInSeconds: Double?

        public init(applied: Bool, diff: NodePlanDiff, rollbackInSeconds: Double? = nil) {
            self.applied = applied
            self.diff = diff
            self.rollbackInSeconds = rollbackInSeconds
        }
    }

    public struct ErrorBody: Codable, Hashable, Sendable, Error {
        public var code: String
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public struct Reply: Codable, Hashable, Sendable {
        public var ok: Bool
        public var status: NodeStatus?
        public var event: TunnelEvent?
        public var error: ErrorBody?
        public var apply: ApplyResult?

        public init(ok: Bool, status: NodeStatus? = nil, event: TunnelEvent? = nil, error: ErrorBody? = nil,
                    apply: ApplyResult? = nil) {
            self.ok = ok
            self.status = status
            self.event = event
            self.error = error
            self.apply = apply
        }
    }

    public static let maxRequestLine = 4096
    /// The control socket's limit: an `apply` carries the topology's text (at most
    /// `TopologyLoader.maxFileSize` bytes), which JSON escaping may grow.
    public static let maxApplyRequestLine = 2 * TopologyLoader.maxFileSize + 65_536

    /// One line of JSON, newline included.
    public static func encodeLine<T: Encodable>(_ value: T) -> [UInt8] {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every value here is plain data; encoding cannot fail, but never crash if it does.
        let data = (try? e.encode(value)) ?? Data(#"{"ok":false,"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
        return Array(data) + [0x0A]
    }

    public static func decode<T: Decodable>(_ type: T.Type, line: some Collection<UInt8>) -> T? {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return try? d.decode(type, from: Data(line))
    }
}
