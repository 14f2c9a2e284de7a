import NetTypes
import Topology

/// Which tunnel interfaces should be up: a tunnel is up while at least one Child SA of its peer
/// is installed (during a rekey there are two). A plain value the data plane updates on every
/// install and delete; a `true` result means the set of down interfaces changed and the kernel
/// must be told (link state, static routes).
public struct TunnelLinkStates: Hashable, Sendable {
    /// Interface name by peer name.
    public let interfaces: [String: String]
    private var installed: [String: Set<ESPSPI>] = [:]

    public init(interfaces: [String: String]) {
        self.interfaces = interfaces
    }

    /// Every tunnel of `plan`, all down.
    public init(plan: NodePlan) {
        self.init(interfaces: Self.interfaces(of: plan))
    }

    /// Interface name by peer name, from a plan.
    public static func interfaces(of plan: NodePlan) -> [String: String] {
        Dictionary(plan.tunnels.map { ($0.peer, $0.interface.name) }, uniquingKeysWith: { a, _ in a })
    }

    /// Interfaces whose peer has no Child SA installed.
    public var down: Set<String> {
        Set(interfaces.compactMap { peer, name in (installed[peer] ?? []).isEmpty ? name : nil })
    }

    /// Records an installed Child SA (by inbound SPI); true when the peer's tunnel just came up.
    public mutating func installed(peer: String, inboundSPI: ESPSPI) -> Bool {
        guard interfaces[peer] != nil else { return false }
        let wasDown = (installed[peer] ?? []).isEmpty
        installed[peer, default: []].insert(inboundSPI)
        return wasDown
    }

    /// Records a deleted Child SA; true when it was the peer's last one (the tunnel went down).
    /// Unknown SPIs change nothing (deletes are idempotent).
    public mutating func deleted(peer: String, inboundSPI: ESPSPI) -> Bool {
        guard installed[peer]?.remove(inboundSPI) != nil else { return false }
        return installed[peer]?.isEmpty ?? true
    }

    /// The same states for a new set of tunnels (`viaduct apply`): peers that stay keep their
    /// installed Child SAs (their links stay up); removed peers are forgotten.
    public func replacingInterfaces(of plan: NodePlan) -> TunnelLinkStates {
        var next = TunnelLinkStates(plan: plan)
        next.installed = installed.filter { next.interfaces[$0.key] != nil }
        return next
    }

    /// Inbound SPIs installed for `peer`.
    public func spis(of peer: String) -> Set<ESPSPI> { installed[peer] ?? [] }
}
