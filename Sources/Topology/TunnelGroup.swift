/// One entry of `tunnels:`: a single pair, a full mesh or a hub with spokes, with the settings
/// that apply to every tunnel it produces.
import NetTypes
public struct TunnelGroup: Hashable, Sendable {
    public enum Shape: Hashable, Sendable {
        /// `between: [a, b]` with `inside:` prefixes (at most one IPv4 and one IPv6).
        case pair(GatewayRef, GatewayRef, inside: [IPPrefix])
        /// `mesh: [...]`: every member to every other; inside prefixes from the pools.
        case mesh([GatewayRef])
        /// `hub: h`, `spokes: [...]`: the hub to each spoke; spokes initiate.
        case hub(GatewayRef, spokes: [GatewayRef])
    }

    public var shape: Shape
    /// Pools with the prefix length of each tunnel's slot (mesh and hub only).
    public var pools: [InsidePool]
    public var settings: TunnelSettings
    /// `between` only: interface name per gateway name, and the initiator.
    public var interfaceNames: [String: String]
    public var initiator: GatewayRef?
    public var ifID: UInt32?
    public var location: SourceLocation
    public var insideLocation: SourceLocation?

    public var members: [GatewayRef] {
        switch shape {
        case .pair(let a, let b, _): [a, b]
        case .mesh(let m): m
        case .hub(let h, let s): [h] + s
        }
    }
}

/// A gateway named in a tunnel, with where it was named.
public struct GatewayRef: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
}

/// An `inside-pool` prefix and the size of the slot carved out of it for each tunnel.
public struct InsidePool: Hashable, Sendable {
    public var prefix: IPPrefix
    public var slotLength: Int
}
