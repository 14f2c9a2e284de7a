import ESP
import IKEv2
import NetTypes
import Topology

/// `mtu: auto` and `mss-clamp` for one node's tunnels: when a Child SA is installed (a rekey
/// too) or its peer moves, the interface MTU follows the underlay path MTU to the peer and the
/// negotiated transform (`TunnelMTUCalculation`). Pure: the path MTU arrives as a value, read
/// by the caller from the kernel (`KernelStateSync.pathMTU(to:)`).
public struct TunnelPathSizing: Sendable {
    /// What was decided for one interface.
    public enum Decision: Hashable, Sendable {
        /// `mtu: N`: nothing to compute.
        case fixed(Int)
        /// `mtu: auto`: the MTU from this path MTU.
        case computed(mtu: Int, pathMTU: Int)
        /// No route to the peer, or its link has no MTU: the interface keeps what it has.
        case pathUnknown
        /// Not even a minimal packet fits: the interface keeps what it has.
        case pathTooSmall(pathMTU: Int)
        /// RFC 8200 §5: an IPv6-carrying tunnel needs 1280; the computed value is not configured.
        case belowIPv6Minimum(mtu: Int, pathMTU: Int)
    }

    /// The computed MTU of each `mtu: auto` interface, by name (for `DesiredKernelState`).
    public private(set) var mtus: [String: Int] = [:]

    public init() {}

    /// Decides the MTU of `tunnel`'s interface for the Child SA `sa` over a path of `pathMTU`
    /// (nil: unknown). `udpAlways`: the data plane always encapsulates in UDP (userspace).
    public static func decide(tunnel: TunnelPlan, sa: ChildSAParameters, pathMTU: Int?, udpAlways: Bool) -> Decision {
        decide(tunnel: tunnel, calculation: calculation(sa, udpAlways: udpAlways), pathMTU: pathMTU)
    }

    /// The overhead of `sa`'s transform over its current outer family.
    public static func calculation(_ sa: ChildSAParameters, udpAlways: Bool) -> TunnelMTUCalculation {
        TunnelMTUCalculation(encryption: sa.encryption, integrity: sa.integrity, outerFamily: sa.peer.isIPv6 ? .ipv6 : .ipv4,
                             udpEncapsulated: udpAlways || sa.udpEncapsulation)
    }

    public static func decide(tunnel: TunnelPlan, calculation: TunnelMTUCalculation, pathMTU: Int?) -> Decision {
        guard case .auto = tunnel.interface.mtu else { return .fixed(tunnel.interface.mtu.initial) }
        guard let path = pathMTU else { return .pathUnknown }
        guard let mtu = calculation.tunnelMTU(pathMTU: path) else { return .pathTooSmall(pathMTU: path) }
        let carriesIPv6 = tunnel.interface.addresses.contains { $0.local.family == .ipv6 }
            || tunnel.routes.contains { $0.destination.family == .ipv6 }
        if carriesIPv6 && mtu < 1280 { return .belowIPv6Minimum(mtu: mtu, pathMTU: path) }
        return .computed(mtu: mtu, pathMTU: path)
    }

    /// Records a decision; true when the interface's MTU changes (the kernel needs a sync).
    public mutating func record(_ decision: Decision, interface: String) -> Bool {
        guard case .computed(let mtu, _) = decision else { return false }
        return mtus.updateValue(mtu, forKey: interface) != mtu
    }

    /// Forgets interfaces no longer in `plan` and those whose `mtu` is fixed now.
    public mutating func keep(only plan: NodePlan) {
        let auto = Set(plan.tunnels.filter { $0.interface.mtu == .auto }.map(\.interface.name))
        mtus = mtus.filter { auto.contains($0.key) }
    }

    /// The MTU the interface has now: computed, else fixed or provisional.
    public func mtu(of tunnel: TunnelPlan) -> Int {
        mtus[tunnel.interface.name] ?? tunnel.interface.mtu.initial
    }

    /// The MSS TCP SYNs through the tunnel are clamped to, per inner family (RFC 6691 §2:
    /// MTU − 40 for IPv4, − 60 for IPv6), or nil for `mss-clamp: off`.
    public func mssClamp(of tunnel: TunnelPlan) -> (ipv4: Int, ipv6: Int)? {
        switch tunnel.interface.mssClamp {
        case .off: return nil
        case .fixed(let n): return (n, n)
        case .auto:
            let mtu = mtu(of: tunnel)
            return (TunnelMTUCalculation.mss(mtu: mtu, innerFamily: .ipv4), TunnelMTUCalculation.mss(mtu: mtu, innerFamily: .ipv6))
        }
    }
}
