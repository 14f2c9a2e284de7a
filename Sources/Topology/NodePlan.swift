/// The complete desired state of one gateway, derived from the topology alone: what `plan`
/// prints and what the reconciler and the IKE daemon are built from. A plain value: two plans
/// are equal exactly when the gateway should look the same.
import NetTypes
public struct NodePlan: Hashable, Sendable, Encodable {
    /// Version of the JSON form (docs/plan-json.md); bumped on incompatible changes.
    public var formatVersion = 1
    public var node: String
    public var identity: Identity
    public var addresses: [IPAddress]
    /// `fixed` (then `addresses` are this gateway's), `dynamic`, or its DNS name.
    public var underlay: UnderlayKind = .fixed
    /// Paths resolved against the topology file's directory.
    public var certificate: String
    public var key: String
    public var caCertificates: [String]
    public var crls: [String]
    public var asn: UInt32?
    public var networks: [IPPrefix]
    public var dataplane: DataplaneKind
    /// Sorted by interface name.
    public var tunnels: [TunnelPlan]
}

/// One peer of the node: its interface, routes and IKE/ESP parameters.
public struct TunnelPlan: Hashable, Sendable, Encodable {
    public var peer: String
    /// The tunnel as the daemon names it (by its peer).
    public var tunnel: TunnelID { TunnelID(peer: peer) }
    /// False when the peer is not run by Viaduct (a cloud VPN, a partner firewall).
    public var peerManaged: Bool
    public var interface: InterfacePlan
    public var routing: RoutingMode
    /// Static routing: the peer's networks through the interface. Empty with BGP.
    public var routes: [RoutePlan]
    public var ike: IKEPeerPlan
    public var esp: SASettings
    /// With `routing: bgp`: what a BGP daemon needs to peer over this tunnel.
    public var bgp: BGPNeighbor?
}

public struct InterfacePlan: Hashable, Sendable, Encodable {
    public var name: String
    public var kind: InterfaceKind
    /// XFRM interface `if_id`, or the VTI ikey/okey.
    public var ifID: UInt32
    /// `auto` or a fixed MTU; with `auto` the interface is created with `TunnelMTU.provisional`
    /// and the daemon sets it from the path and the transform when a Child SA is installed.
    public var mtu: TunnelMTU
    public var addresses: [InterfaceAddress]
    /// TCP MSS clamping on traffic through the interface.
    public var mssClamp = MSSClamp.auto
}

/// An inside address of this end, with the peer's address on the same link.
public struct InterfaceAddress: Hashable, Sendable, Encodable {
    public var local: IPAddress
    public var peer: IPAddress
    public var prefixLength: Int
}

public struct RoutePlan: Hashable, Sendable, Encodable {
    public var destination: IPPrefix
    public var interface: String
}

public enum IKERole: String, Hashable, Sendable, Encodable {
    case initiator, responder
}

public struct IKEPeerPlan: Hashable, Sendable, Encodable {
    /// The unspecified address (`0.0.0.0`, `::`) when this end's address is not in the topology.
    public var localAddress: IPAddress
    /// The unspecified address when the peer's is not in the topology (see `peerUnderlay`).
    public var peerAddress: IPAddress
    public var peerAddresses: [IPAddress]
    /// How each end's underlay address is known: `fixed`, `dynamic` or a DNS name.
    public var localUnderlay = UnderlayKind.fixed
    public var peerUnderlay = UnderlayKind.fixed
    public var localIdentity: Identity
    public var peerIdentity: Identity
    public var role: IKERole
    public var proposals: [Proposal]
    public var lifetime: TimeSpan
    public var rekeyMargin: TimeSpan
    public var rekeyJitter: TimeSpan
    public var dpd: DPDSettings
    /// See `TunnelSettings.natKeepalive`, `.fragmentation`, `.fragmentSize`.
    public var natKeepalive = TimeSpan(seconds: 20)
    public var fragmentation = true
    public var fragmentSize = IKEFragmentSize.fixed(1280)
    /// See `TunnelSettings.reauthenticate`.
    public var reauthenticate = false
    /// RFC 7296 §2.15: certificates, or a pre-shared key from this file (path resolved).
    public var auth = TunnelAuth.certificate
}

public struct BGPNeighbor: Hashable, Sendable, Encodable {
    public var localASN: UInt32
    public var peerASN: UInt32
    /// One session per inside address family.
    public var sessions: [InterfaceAddress]
    /// The peer's declared networks: what to accept from it.
    public var peerNetworks: [IPPrefix]
    /// The topology's `bgp.bfd` when the peer is managed (its BGP daemon gets the same); nil
    /// for `bfd: off` and for a peer Viaduct does not manage, which may not answer BFD.
    public var bfd: BFDTimers?
    /// `bgp.password-file`, resolved: the session's TCP MD5 password (RFC 2385) is in it.
    public var passwordFile: String?

    public init(localASN: UInt32, peerASN: UInt32, sessions: [InterfaceAddress], peerNetworks: [IPPrefix],
                bfd: BFDTimers? = nil, passwordFile: String? = nil) {
        self.localASN = localASN
        self.peerASN = peerASN
        self.sessions = sessions
        self.peerNetworks = peerNetworks
        self.bfd = bfd
        self.passwordFile = passwordFile
    }
}
