import NetTypes

/// The endpoint's view of one tunnel's peer: enough to route datagrams to its IKE SAs and to
/// name it in logs. Derived from a `TunnelPlan`; each session's configuration carries the rest.
public struct IKETunnelPeer: Hashable, Sendable {
    /// The tunnel, named by the peer gateway's name in the topology (the `peer=` of every log line).
    public var tunnel: TunnelID
    /// Every underlay address the peer may send from.
    public var addresses: [[UInt8]]
    public var local: IKEEndpoint
    public var remote: IKEEndpoint
    /// Whether this end opens the tunnel's IKE SA (the topology's initiator).
    public var initiator: Bool
    /// `address: dynamic`: the peer may come from any address; its IKE SAs are told apart
    /// from other dynamic peers' by the identity in IKE_AUTH (IKEDynamicPeers.swift), and
    /// `addresses` route nothing.
    public var dynamic: Bool

    public init(tunnel: TunnelID, addresses: [[UInt8]], local: IKEEndpoint, remote: IKEEndpoint, initiator: Bool,
                dynamic: Bool = false) {
        self.tunnel = tunnel
        self.addresses = addresses
        self.local = local
        self.remote = remote
        self.initiator = initiator
        self.dynamic = dynamic
    }

    /// The peer gateway's name.
    public var name: String { tunnel.peer }
}
