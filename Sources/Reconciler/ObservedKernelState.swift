import KernelModel

/// What the kernel has, as dumped over netlink (links, addresses, routes, XFRM policies). The
/// reconciler filters it to what Viaduct owns; the rest is never looked at again.
public struct ObservedKernelState: Hashable, Sendable {
    public var links: [ObservedLink]
    public var addresses: [LinkAddress]
    public var routes: [Route]
    public var policies: [XfrmPolicy]

    public init(links: [ObservedLink] = [], addresses: [LinkAddress] = [], routes: [Route] = [],
                policies: [XfrmPolicy] = []) {
        self.links = links
        self.addresses = addresses
        self.routes = routes
        self.policies = policies
    }

    /// IFF_UP in ifi_flags.
    static let interfaceUp: UInt32 = 0x1
}
