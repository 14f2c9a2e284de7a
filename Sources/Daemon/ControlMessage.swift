import Foundation

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
/// Anything else gets `{"ok":false,"error":{"code":"unknown-command"|"bad-request","message":"..."}}`
/// and the connection stays open. A client that cannot keep up with the event stream is
/// disconnected rather than allowed to grow the daemon's memory. Fields are only ever added;
/// `apply` will join `status` and `events`.
public enum ControlMessage {
    public struct Request: Codable, Hashable, Sendable {
        public var command: String
        /// For `rekey-ike`, `rekey-child`, `delete-child`, `delete-ike`: the peer (gateway name).
        public var peer: String?
        public init(command: String, peer: String? = nil) {
            self.command = command
            self.peer = peer
        }
    }

    public struct ErrorBody: Codable, Hashable, Sendable {
        public var code: String
        public var message: String
    }

    public struct Reply: Codable, Hashable, Sendable {
        public var ok: Bool
        public var status: NodeStatus?
        public var event: TunnelEvent?
        public var error: ErrorBody?

        public init(ok: Bool, status: NodeStatus? = nil, event: TunnelEvent? = nil, error: ErrorBody? = nil) {
            self.ok = ok
            self.status = status
            self.event = event
            self.error = error
        }
    }

    public static let maxRequestLine = 4096

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
