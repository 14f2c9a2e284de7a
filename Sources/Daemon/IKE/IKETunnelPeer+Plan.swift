import IKEv2
import NetTypes
import Topology

extension IKETunnelPeer {
    /// The routing view of one planned tunnel: the peer's name and addresses, our bound
    /// endpoint, and whether this end opens the IKE SA (the planner decides, deterministically
    /// and identically on both ends).
    public init(tunnel: TunnelPlan, ports: IKEPorts = .standard) {
        let ike = tunnel.ike
        // An address the plan leaves open (`dynamic`, a DNS name not resolved yet) routes nothing.
        let addresses = ([ike.peerAddress] + ike.peerAddresses).filter { !$0.isUnspecified }.map(\.bytes)
        var unique: [[UInt8]] = []
        for a in addresses where !unique.contains(a) { unique.append(a) }
        self.init(tunnel: TunnelID(peer: tunnel.peer), addresses: unique,
                  local: IKEEndpoint(address: ike.localAddress.bytes, port: ports.ike),
                  remote: IKEEndpoint(address: ike.peerAddress.bytes, port: ports.ike),
                  initiator: ike.role == .initiator,
                  // A peer known by name that opens the tunnel itself is told by its identity,
                  // like a dynamic one: its name may point elsewhere by the time it arrives.
                  dynamic: ike.peerUnderlay == .dynamic || (ike.peerUnderlay != .fixed && ike.role == .responder))
    }
}
