/// A site's IPsec gateway. `managed: false` marks a peer Viaduct does not run on (a cloud VPN
/// endpoint, a partner's firewall): it appears only as the far end of tunnels.
import NetTypes
public struct Gateway: Hashable, Sendable {
    public var name: String
    public var addresses: [IPAddress]
    public var identity: Identity
    /// Paths as written, relative to the topology file's directory (see `Topology.resolve`).
    public var certificate: String?
    public var key: String?
    public var asn: UInt32?
    public var networks: [IPPrefix]
    public var managed: Bool
    public var dataplane: DataplaneKind?
    public var interfaceKind: InterfaceKind?
    /// Where the gateway is declared, and where its certificate/key are, for diagnostics.
    public var location: SourceLocation
    public var certificateLocation: SourceLocation?
    public var keyLocation: SourceLocation?
    /// `.fixed` with `addresses` listed; `.dynamic` or `.name` with `addresses` empty.
    public var underlay: UnderlayKind = .fixed
}
