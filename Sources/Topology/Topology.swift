/// A whole network of sites as declared in one topology file, after parsing and validation.
public struct Topology: Hashable, Sendable {
    public var file: String
    public var version: Int
    public var defaults: TunnelSettings
    public var defaultDataplane: DataplaneKind
    public var defaultInterfaceKind: InterfaceKind
    public var caCertificates: [String]
    public var crls: [String]
    /// Where each CA certificate and CRL path is written, for diagnostics.
    public var pkiLocations: [String: SourceLocation] = [:]
    /// In declaration order.
    public var gateways: [Gateway]
    public var tunnelGroups: [TunnelGroup]
    /// The `bgp:` section: BFD and the session password of every generated BGP session.
    public var bgp = BGPSettings()

    public func gateway(named name: String) -> Gateway? {
        gateways.first { $0.name == name }
    }

    /// A path from the topology, made relative to the topology file's directory unless absolute.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }
}
