import KernelModel
import NetTypes
import Topology

/// What Viaduct wants in the kernel for one node, derived from its `NodePlan`: the tunnel
/// interfaces, their inside addresses, the static routes through them, and the route-based XFRM
/// policies bound to them. SAs are not here: they come from live IKE negotiations.
public struct DesiredKernelState: Hashable, Sendable {
    public var links: [DesiredLink]
    public var addresses: [DesiredAddress]
    public var routes: [DesiredRoute]
    public var policies: [XfrmPolicy]

    public init(links: [DesiredLink] = [], addresses: [DesiredAddress] = [], routes: [DesiredRoute] = [],
                policies: [XfrmPolicy] = []) {
        self.links = links
        self.addresses = addresses
        self.routes = routes
        self.policies = policies
    }

    /// Which data plane the interfaces belong to. The kernel's are XFRM interfaces or VTIs with
    /// route-based XFRM policies; the userspace data plane's are TUN devices it creates itself
    /// (the reconciler only configures them) and it needs no XFRM policies.
    public enum Backend: String, Hashable, Sendable {
        case kernel, userspace
    }

    /// The desired state of `plan`. A tunnel whose name is in `down` keeps its interface and
    /// addresses but the interface is down and its static routes are withdrawn: that is how a
    /// lost tunnel tells BGP and the routing table at once.
    ///
    /// `peerAddresses`: where the daemon last found peers whose address the plan leaves open
    /// (`address: dynamic`) or names (a DNS name, which may resolve elsewhere at re-initiation),
    /// by peer name; their policy templates and VTI name it.
    /// `mtus` holds the MTU the daemon computed for `mtu: auto` interfaces (by name) from the path
    /// and the negotiated transform; an interface without an entry gets `TunnelMTU.initial`.
    public init(plan: NodePlan, down: Set<String> = [], backend: Backend = .kernel,
                peerAddresses: [String: IPAddress] = [:], mtus: [String: Int] = [:]) {
        self.init()
        for var t in plan.tunnels {
            if t.ike.peerUnderlay != .fixed, let live = peerAddresses[t.peer], live.family == t.ike.peerAddress.family {
                t.ike.peerAddress = live
            }
            let i = t.interface
            let up = !down.contains(i.name)
            let kind: LinkKind
            switch (backend, i.kind) {
            case (.userspace, _):
                kind = .tun
            case (.kernel, .xfrm):
                kind = .xfrm(ifID: i.ifID, underlyingIndex: nil)
            case (.kernel, .vti):
                kind = .vti(ikey: i.ifID, okey: i.ifID, local: t.ike.localAddress, remote: t.ike.peerAddress)
            }
            links.append(DesiredLink(name: i.name, kind: kind, mtu: UInt32(mtus[i.name] ?? i.mtu.initial), up: up))
            for a in i.addresses {
                addresses.append(DesiredAddress(interface: i.name, address: a.local, prefixLength: UInt8(a.prefixLength)))
            }
            if up {
                routes += t.routes.map { DesiredRoute(destination: $0.destination, interface: $0.interface) }
            }
            // Route-based: one policy per direction and inside family, selector any <-> any,
            // bound to the interface; the template names the tunnel endpoints.
            guard backend == .kernel else { continue }
            let families = Set(i.addresses.map(\.local.family)).union(t.routes.map(\.destination.family))
            for family in [IPAddress.Family.ipv4, .ipv6] where families.contains(family) {
                // A peer whose address is not known yet (`dynamic`, or a DNS name not resolved):
                // inbound and forward templates take any source (the kernel matches a wildcard
                // template source against any SA), but an outbound template needs the real
                // destination to find its SA, so there is none until the daemon learns it
                // (`plan.tunnels[i].ike.peerAddress` set to the live address).
                let directions: [XfrmDirection] = t.ike.peerAddress.isUnspecified ? [.inbound, .forward] : [.outbound, .inbound, .forward]
                for dir in directions {
                    let (src, dst) = dir == .outbound ? (t.ike.localAddress, t.ike.peerAddress) : (t.ike.peerAddress, t.ike.localAddress)
                    let binding = i.kind == .xfrm ? (ifID: Optional(i.ifID), mark: XfrmMark?.none)
                                                   : (ifID: nil, mark: XfrmMark(value: i.ifID, mask: 0xffff_ffff))
                    policies.append(XfrmPolicy(
                        selector: .any(family), direction: dir, priority: Ownership.policyPriority,
                        templates: [XfrmTemplate(source: src, destination: dst, reqid: i.ifID)],
                        interfaceID: binding.ifID, mark: binding.mark))
                }
            }
        }
    }
}

/// A tunnel interface Viaduct wants.
public struct DesiredLink: Hashable, Sendable {
    public var name: String
    public var kind: LinkKind
    public var mtu: UInt32
    public var up: Bool

    public init(name: String, kind: LinkKind, mtu: UInt32, up: Bool) {
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.up = up
    }
}

/// An inside address on a tunnel interface, by interface name (indexes are the kernel's to choose).
public struct DesiredAddress: Hashable, Sendable {
    public var interface: String
    public var address: IPAddress
    public var prefixLength: UInt8

    public init(interface: String, address: IPAddress, prefixLength: UInt8) {
        self.interface = interface
        self.address = address
        self.prefixLength = prefixLength
    }
}

/// A route through a tunnel interface, installed with Viaduct's `rtm_protocol`.
public struct DesiredRoute: Hashable, Sendable {
    public var destination: IPPrefix
    public var interface: String

    public init(destination: IPPrefix, interface: String) {
        self.destination = destination
        self.interface = interface
    }
}
