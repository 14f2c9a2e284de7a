import DataplaneContract
import Dataplane
import IKEv2
import KernelDataplane
import KernelModel
import Logging
import NetTypes
import Topology

/// The daemon's side of the kernel data plane (docs/dataplane.md, "Kernel"): the reconciler
/// builds the tunnel interfaces (xfrm or VTI), inside addresses, routes and route-based XFRM
/// policies; `KernelDataplane` adds the negotiated SAs, bound to those interfaces; the kernel
/// carries ESP.
///
/// Port 4500 stays the daemon's: `attach` only sets UDP_ENCAP_ESPINUDP on it, so the kernel
/// takes ESP-in-UDP off the socket before it is queued and the daemon keeps reading IKE
/// (marker-prefixed) from it as before. Like the userspace backend, a tunnel is down (link
/// down, static routes withdrawn) until its first Child SA and again after its last.
///
/// `detach` removes the SAs this daemon installed, so a stopped daemon leaves no keys in the
/// kernel; interfaces, addresses and policies stay until `viaduct down`, so a restart does not
/// flap routes a BGP daemon depends on more than needed.
public final class KernelDataplaneBackend: SocketSharingDataplane, KernelResyncing {
    public let name = "kernel"
    public let espSupport = DataplaneKind.kernel
    private var plan: NodePlan
    /// Where `dynamic` and named peers are, from their latest Child SA: the outbound XFRM
    /// policy toward such a peer names this address; a dynamic one has none before.
    private var livePeerAddresses = LivePeerAddresses()
    private let kernel: any KernelStateSync
    private let dataplane: KernelDataplane
    private let logger: Logger
    private var links: TunnelLinkStates
    /// `mtu: auto`: the interface MTU from the path and the transform of each installed Child SA.
    private let sizer = TunnelPathSizer(udpAlways: false)
    /// `mss-clamp`: Viaduct's own nftables table (`MSSClampRuleset`); nil when libnftables could
    /// not be opened (logged; the tunnels work, unclamped).
    private var nftables: Nftables?
    private var appliedClamps: [MSSClampRule]?
    /// Outbound SPI by inbound SPI, to remove what is left on detach.
    private var live: [ESPSPI: (tunnel: TunnelID, outbound: ESPSPI)] = [:]

    /// Opens the XFRM socket in the calling thread's network namespace.
    public init(plan: NodePlan, kernel: any KernelStateSync, logger: Logger) throws(DaemonError) {
        self.plan = plan
        self.kernel = kernel
        self.logger = logger
        do {
            dataplane = try KernelDataplane(bindings: KernelSABinding.bindings(plan: plan))
        } catch {
            throw DaemonError.dataplane(error, "cannot open the kernel data plane")
        }
        links = TunnelLinkStates(plan: plan)
        do { nftables = try Nftables() } catch {
            logger.warning("cannot open libnftables; TCP MSS is not clamped", metadata: ["reason": "\(error)"])
        }
    }

    deinit { detach() }

    /// Brings `table inet viaduct` in line with the plan and the current MTUs: one set of rules per
    /// tunnel interface whose `mss-clamp` is not `off`; the table goes when none is left. Only
    /// applied when it changes; a failure is logged and retried at the next change.
    private func syncMSSClamps() {
        guard let nftables else { return }
        let rules = plan.tunnels.compactMap { t -> MSSClampRule? in
            sizer.sizing.mssClamp(of: t).map { MSSClampRule(interface: t.interface.name, ipv4: $0.ipv4, ipv6: $0.ipv6) }
        }.sorted { $0.interface < $1.interface }
        guard rules != appliedClamps else { return }
        do {
            try nftables.apply(rules)
            appliedClamps = rules
            logger.info("MSS clamp rules set", metadata: [
                "table": "\(MSSClampRuleset.family) \(MSSClampRuleset.table)",
                "clamps": "\(rules.map { "\($0.interface):\($0.ipv4)/\($0.ipv6)" }.joined(separator: ","))",
            ])
        } catch {
            logger.error("cannot set the MSS clamp rules", metadata: ["reason": "\(error)"])
        }
    }

    /// Interfaces currently down (no Child SA).
    public var downInterfaces: Set<String> { links.down }

    // MARK: SocketSharingDataplane

    public func attach(sockets: IKESocketSet) throws(DaemonError) -> SharedSockets {
        try sockets.enableKernelESPDecapsulation()
        try kernel.sync(down: links.down, logger: logger, throwing: true)
        syncMSSClamps()
        removeStaleSAs()
        // A VTI checks inbound policy on itself after decryption, where the mark is gone: without
        // this every decrypted packet is dropped (strongSwan's route-based VTI guide says the same).
        for t in plan.tunnels where t.interface.kind == .vti {
            do { try SysctlWriter.apply(.disablePolicy(t.interface.name)) } catch {
                throw DaemonError(.system, "cannot turn policy checks off on VTI \(t.interface.name): \(error)")
            }
        }
        logger.info("kernel data plane ready", metadata: [
            "interfaces": "\(plan.tunnels.map(\.interface.name).joined(separator: ","))",
        ])
        return SharedSockets()
    }

    /// SAs bound to our interfaces that a killed previous run left: nothing can rekey them now.
    private func removeStaleSAs() {
        do {
            for summary in try dataplane.removeStale() {
                logger.info("stale child SA of a previous run removed", metadata: ["sa": "\(summary)"])
            }
        } catch {
            logger.warning("cannot remove stale child SAs of a previous run", metadata: ["reason": "\(error.message)"])
        }
    }

    public func detach() {
        for (inbound, entry) in live {
            do {
                try dataplane.delete(inboundSPI: inbound, outboundSPI: entry.outbound, peer: entry.tunnel.peer)
            } catch {
                logger.warning("cannot remove child SA at shutdown", metadata: [
                    "peer": "\(entry.tunnel)", "spi": "\(SPIText.child(inbound))_i", "reason": "\(error.message)",
                ])
            }
        }
        live.removeAll()
    }

    // MARK: KernelResyncing

    /// Looks at the whole kernel again; a failure is logged, the next sync or resync retries.
    public func resyncKernel() {
        _ = try? kernel.sync(down: links.down, logger: logger, throwing: false, resync: true)
    }

    // MARK: DataplaneBackend

    public func update(plan new: NodePlan) throws(DataplaneError) {
        let bindings = KernelSABinding.bindings(plan: new)
        for t in plan.tunnels where bindings[t.peer] == nil { dataplane.setBinding(nil, peer: t.peer) }
        for (peer, binding) in bindings { dataplane.setBinding(binding, peer: peer) }
        plan = new
        links = links.replacingInterfaces(of: new)
        sizer.keep(only: new)
        kernel.update(plan: withLivePeerAddresses(new))
        kernel.update(mtus: sizer.sizing.mtus)
        do { try kernel.sync(down: links.down, logger: logger, throwing: true) } catch { throw DataplaneError(error) }
        syncMSSClamps()
        for t in new.tunnels where t.interface.kind == .vti {
            do { try SysctlWriter.apply(.disablePolicy(t.interface.name)) } catch {
                throw DataplaneError(.system, "cannot turn policy checks off on VTI \(t.interface.name): \(error)")
            }
        }
    }

    public func install(_ sa: ChildSAParameters, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        do {
            try dataplane.install(sa, peer: peer, activateOutbound: sa.activateOutbound)
        } catch {
            throw error.context("cannot install the child SA")
        }
        live[sa.inboundSPI] = (tunnel, sa.outboundSPI)
        var moved = false
        if let at = IPAddress(networkBytes: sa.peer.address), livePeerAddresses.childSAInstalled(peer: peer, at: at, plan: plan) {
            kernel.update(plan: withLivePeerAddresses(plan))
            moved = true
        }
        logger.info("child SA installed", metadata: [
            "peer": "\(peer)", "dataplane": "kernel",
            "spi": "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o",
            "enc": "\(AlgorithmText.encryption(sa.encryption))", "remote": "\(sa.peer)",
            "encap": "\(sa.udpEncapsulation ? "udp" : "none")",
        ])
        let wentUp = links.installed(tunnel, inboundSPI: sa.inboundSPI)
        let resized = plan.tunnels.first { $0.tunnel == tunnel }.map {
            sizer.childSAInstalled(sa, tunnel: $0, kernel: kernel, logger: logger)
        } ?? false
        if wentUp || moved || resized { _ = try? kernel.sync(down: links.down, logger: logger, throwing: false) }
        if resized { syncMSSClamps() }
    }

    /// `plan` with the live addresses of peers it leaves open or names, for the reconciler.
    private func withLivePeerAddresses(_ plan: NodePlan) -> NodePlan { livePeerAddresses.applied(to: plan) }

    /// Rekey responder: the deferred outbound state goes in now; being the newest for its reqid,
    /// the kernel sends on it from here on.
    public func activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        do {
            try dataplane.activateOutbound(spi: outboundSPI, peer: peer)
        } catch {
            throw error.context("cannot activate the outbound SA \(SPIText.child(outboundSPI))")
        }
    }

    public func updatePeerEndpoint(inboundSPI: ESPSPI, peerEndpoint: IKEEndpoint, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        do {
            try dataplane.updatePeerEndpoint(inboundSPI: inboundSPI, address: peerEndpoint.address, port: peerEndpoint.port, peer: peer)
        } catch {
            throw error.context("cannot send ESP to the peer's new address \(peerEndpoint)")
        }
        logger.info("child SA destination updated", metadata: [
            "peer": "\(peer)", "dataplane": "kernel", "spi": "\(SPIText.child(inboundSPI))_i", "remote": "\(peerEndpoint)",
        ])
        // The path to the new address may have another MTU (RFC 4555 §3.5 moves, NAT rebinding).
        if let t = plan.tunnels.first(where: { $0.tunnel == tunnel }),
           sizer.peerMoved(t, to: peerEndpoint, kernel: kernel, logger: logger) {
            _ = try? kernel.sync(down: links.down, logger: logger, throwing: false)
            syncMSSClamps()
        }
    }

    public func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        live[inboundSPI] = nil
        do {
            try dataplane.delete(inboundSPI: inboundSPI, outboundSPI: outboundSPI, peer: peer)
        } catch {
            throw error.context("cannot delete the child SA")
        }
        logger.info("child SA removed", metadata: [
            "peer": "\(peer)", "dataplane": "kernel",
            "spi": "\(SPIText.child(inboundSPI))_i \(SPIText.child(outboundSPI))_o",
        ])
        if links.deleted(tunnel, inboundSPI: inboundSPI) { _ = try? kernel.sync(down: links.down, logger: logger, throwing: false) }
    }

    public func counters(inboundSPI: ESPSPI) -> ChildSACounters? {
        guard let c = dataplane.counters(inboundSPI: inboundSPI) else { return nil }
        var out = ChildSACounters()
        out.inboundPackets = c.inboundPackets
        out.inboundBytes = c.inboundBytes
        out.outboundPackets = c.outboundPackets
        out.outboundBytes = c.outboundBytes
        return out
    }
}
