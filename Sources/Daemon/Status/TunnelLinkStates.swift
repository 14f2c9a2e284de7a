import NetTypes
import Topology

/// Which tunnel interfaces should be up: a tunnel is up while at least one Child SA of it
/// is installed (during a rekey there are two). A plain value the data plane updates on every
/// install and delete; a `true` result means the set of down interfaces changed and the kernel
/// must be told (link state, static routes).
public struct TunnelLinkStates: Hashable, Sendable {
    /// Interface name by tunnel.
    public let interfaces: [TunnelID: String]
    private var installed: [TunnelID: Set<ESPSPI>] = [:]

    public init(interfaces: [TunnelID: String]) {
        self.interfaces = interfaces
    }

    /// Every tunnel of `plan`, all down.
    public init(plan: NodePlan) {
        self.init(interfaces: Self.interfaces(of: plan))
    }

    /// Interface name by tunnel, from a plan.
    public static func interfaces(of plan: NodePlan) -> [TunnelID: String] {
        Dictionary(plan.tunnels.map { ($0.tunnel, $0.interface.name) }, uniquingKeysWith: { a, _ in a })
    }

    /// Interfaces whose peer has no Child SA installed.
    public var down: Set<String> {
        Set(interfaces.compactMap { tunnel, name in (installed[tunnel] ?? []).isEmpty ? name : nil })
    }

    /// Records an installed Child SA (by inbound SPI); true when the tunnel just came up.
    public mutating func installed(_ tunnel: TunnelID, inboundSPI: ESPSPI) -> Bool {
        guard interfaces[tunnel] != nil else { return false }
        let wasDown = (installed[tunnel] ?? []).isEmpty
        installed[tunnel, default: []].insert(inboundSPI)
        return wasDown
    }

    /// Records a deleted Child SA; true when it was the tunnel's last one (the tunnel went down).
    /// Unknown SPIs change nothing (deletes are idempotent).
    public mutating func deleted(_ tunnel: TunnelID, inboundSPI: ESPSPI) -> Bool {
        guard installed[tunnel]?.remove(inboundSPI) != nil else { return false }
        return installed[tunnel]?.isEmpty ?? true
    }

    /// The same states for a new set of tunnels (`viaduct apply`): peers that stay keep their
    /// installed Child SAs (their links stay up); removed peers are forgotten.
    public func replacingInterfaces(of plan: NodePlan) -> TunnelLinkStates {
        var next = TunnelLinkStates(plan: plan)
        next.installed = installed.filter { next.interfaces[$0.key] != nil }
        return next
    }

    /// Inbound SPIs installed for `tunnel`.
    public func spis(of tunnel: TunnelID) -> Set<ESPSPI> { installed[tunnel] ?? [] }
}
