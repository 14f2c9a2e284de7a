import ESP
import KernelDataplane
import KernelModel
import IKEv2
import Logging
import NetTypes
import Topology

/// The shell around `TunnelPathSizing` that both data plane backends share: reads the path MTU
/// from the kernel, decides, logs, and hands changed MTUs to the `KernelStateSync`. Called when a
/// Child SA is installed (first, rekey) and when the peer's address changes.
final class TunnelPathSizer {
    private(set) var sizing = TunnelPathSizing()
    /// The last installed transform of each tunnel interface (no keys), for a move.
    private var transforms: [String: TunnelMTUCalculation] = [:]
    private let udpAlways: Bool

    init(udpAlways: Bool) { self.udpAlways = udpAlways }

    /// A Child SA of `tunnel` was installed; true when the kernel needs a sync.
    func childSAInstalled(_ sa: ChildSAParameters, tunnel: TunnelPlan, kernel: any KernelStateSync, logger: Logger) -> Bool {
        let calculation = TunnelPathSizing.calculation(sa, udpAlways: udpAlways)
        transforms[tunnel.interface.name] = calculation
        guard let peer = IPAddress(networkBytes: sa.peer.address) else { return false }
        return size(tunnel, calculation: calculation, peer: peer, kernel: kernel, logger: logger)
    }

    /// The peer of `tunnel` is at `peer` now; true when the kernel needs a sync.
    func peerMoved(_ tunnel: TunnelPlan, to endpoint: IKEEndpoint, kernel: any KernelStateSync, logger: Logger) -> Bool {
        guard var calculation = transforms[tunnel.interface.name],
              let peer = IPAddress(networkBytes: endpoint.address) else { return false }
        calculation.outerFamily = peer.family
        transforms[tunnel.interface.name] = calculation
        return size(tunnel, calculation: calculation, peer: peer, kernel: kernel, logger: logger)
    }

    /// Forgets what `plan` no longer has.
    func keep(only plan: NodePlan) {
        sizing.keep(only: plan)
        let names = Set(plan.tunnels.map(\.interface.name))
        transforms = transforms.filter { names.contains($0.key) }
    }

    private func size(_ tunnel: TunnelPlan, calculation: TunnelMTUCalculation, peer: IPAddress,
                      kernel: any KernelStateSync, logger: Logger) -> Bool {
        guard tunnel.interface.mtu == .auto else { return false }
        // From the tunnel's local address, as its IKE and ESP packets leave (policy routing).
        let path = kernel.pathMTU(to: peer, from: tunnel.ike.localAddress)
        let decision = TunnelPathSizing.decide(tunnel: tunnel, calculation: calculation, pathMTU: path)
        let meta: Logger.Metadata = ["peer": "\(tunnel.peer)", "interface": "\(tunnel.interface.name)", "remote": "\(peer)"]
        switch decision {
        case .fixed:
            return false
        case .computed(let mtu, let pathMTU):
            let changed = sizing.record(decision, interface: tunnel.interface.name)
            if changed {
                logger.info("tunnel MTU set from the path", metadata: meta.merging([
                    "mtu": "\(mtu)", "path_mtu": "\(pathMTU)", "overhead": "\(pathMTU - mtu)",
                ]) { a, _ in a })
            }
            kernel.update(mtus: sizing.mtus)
            return changed
        case .pathUnknown:
            logger.warning("path MTU to the peer unknown; the tunnel MTU stays", metadata: meta.merging([
                "mtu": "\(sizing.mtu(of: tunnel))"]) { a, _ in a })
            return false
        case .pathTooSmall(let pathMTU):
            logger.error("the path MTU to the peer is too small for any ESP packet; the tunnel MTU stays", metadata: meta.merging([
                "path_mtu": "\(pathMTU)", "mtu": "\(sizing.mtu(of: tunnel))"]) { a, _ in a })
            return false
        case .belowIPv6Minimum(let mtu, let pathMTU):
            logger.error("the tunnel carries IPv6 but the path leaves an MTU below 1280 (RFC 8200); not configured, the tunnel MTU stays", metadata: meta.merging([
                "computed_mtu": "\(mtu)", "path_mtu": "\(pathMTU)", "mtu": "\(sizing.mtu(of: tunnel))"]) { a, _ in a })
            return false
        }
    }
}

/// `ike.fragment-size: auto`: the path MTU as the kernel sees it, for `EngineSessionFactory`.
public enum KernelPathMTU {
    /// A lookup over a route netlink socket opened now; answers nil when it cannot be opened or
    /// the kernel has no route.
    /// The lookup takes the peer's address and the local one the IKE packets leave from.
    public static func lookup() -> (IPAddress, IPAddress) -> Int? {
        let socket = try? NetlinkSocket(.route)
        return { address, source in (try? socket?.pathMTU(to: address, from: source)) ?? nil }
    }
}
