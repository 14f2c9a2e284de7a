/// One tunnel of a node: the tunnel to one peer gateway, named by that peer's name in the
/// topology (a node has at most one tunnel per peer). It is what the IKE endpoint, the data
/// planes, status and metrics agree on, and what every log line prints as `peer=`.
public struct TunnelID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable, ExpressibleByStringLiteral {
    /// The peer gateway's name in the topology.
    public let peer: String

    public init(peer: String) { self.peer = peer }

    /// A peer's name as a literal (fixtures, tests), as the SPI types take integer literals.
    public init(stringLiteral peer: String) { self.peer = peer }

    public var description: String { peer }

    public static func < (a: TunnelID, b: TunnelID) -> Bool { a.peer < b.peer }

    public init(from decoder: any Decoder) throws {
        peer = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(peer)
    }
}
