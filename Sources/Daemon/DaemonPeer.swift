import IKEv2

/// The daemon's view of one tunnel peer: enough to route datagrams to its session and to
/// name it in logs. Derived from a `TunnelPlan`; the engine's configuration carries the rest.
public struct DaemonPeer: Hashable, Sendable {
    /// The peer gateway's name in the topology: the `peer=` of every log line.
    public var name: String
    /// Every underlay address the peer may send from.
    public var addresses: [[UInt8]]
    public var local: IKEEndpoint
    public var remote: IKEEndpoint
    public var initiator: Bool

    public init(name: String, addresses: [[UInt8]], local: IKEEndpoint, remote: IKEEndpoint, initiator: Bool) {
        self.name = name
        self.addresses = addresses
        self.local = local
        self.remote = remote
        self.initiator = initiator
    }
}
