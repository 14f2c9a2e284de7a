import DataplaneContract
import Dataplane
import Glibc
import IKEv2
import Logging
import NetTypes
import System
import Topology

/// The daemon's side of Viaduct's userspace data plane (docs/dataplane.md): one TUN device per
/// tunnel, named by the plan, and one `UserspaceDataplane` per local underlay address, reading
/// ESP-in-UDP on that address's 4500 socket.
///
/// Descriptors: the daemon opens and binds 500/4500 and keeps them (`IKESocketSet`). `attach`
/// gives each data plane a dup(2) of the 4500 socket (`ESPSocket(adopting:)` owns and closes the
/// duplicate); the data plane is then that socket's only reader, batch-receives ESP, and passes
/// every marker-prefixed datagram (IKE) back through the `IKEInbox` the event loop polls. The
/// daemon still sends IKE from its own descriptor. TUN descriptors belong to the data plane
/// (`TUNDevice`); the interfaces disappear when `detach` drops it, so a stopped or crashed
/// daemon leaves no interface, address or route behind.
///
/// Links: the kernel side (MTU, inside addresses, up/down, static routes) is `KernelStateSync`'s.
/// A tunnel is down until its first Child SA is installed and again after its last is deleted,
/// so routes appear with the tunnel and a BGP daemon sees the link drop.
public final class UserspaceDataplaneBackend: SocketSharingDataplane, KernelResyncing {
    public let name = "userspace"
    public let espSupport = DataplaneKind.userspace
    private var plan: NodePlan
    private let kernel: any KernelStateSync
    private let logger: Logger
    private let configuration: UserspaceDataplane.Configuration
    private var planes: [UserspaceDataplane] = []
    /// The data plane of each local underlay address.
    private var planeOfAddress: [[UInt8]: UserspaceDataplane] = [:]
    private var planeOfTunnel: [TunnelID: UserspaceDataplane] = [:]
    private var links: TunnelLinkStates
    /// `mtu: auto`: the interface MTU from the path and the transform of each installed Child SA.
    private let sizer = TunnelPathSizer(udpAlways: true)
    private var inbox: IKEInbox?

    public init(plan: NodePlan, kernel: any KernelStateSync, logger: Logger,
                configuration: UserspaceDataplane.Configuration = UserspaceDataplane.Configuration()) {
        self.plan = plan
        self.kernel = kernel
        self.logger = logger
        self.configuration = configuration
        links = TunnelLinkStates(plan: plan)
    }

    deinit { detach() }

    /// Interfaces currently down (no Child SA).
    public var downInterfaces: Set<String> { links.down }

    // MARK: SocketSharingDataplane

    public func attach(sockets: IKESocketSet) throws(DaemonError) -> SharedSockets {
        let inbox = try IKEInbox()
        var taken: Set<Int32> = []
        do throws(DaemonError) {
            for address in NodeDaemon.localAddresses(plan) {
                let local = IKEEndpoint(address: address, port: sockets.ports.natTraversal)
                guard let socket = sockets.socket(for: local) else {
                    throw DaemonError(.configuration, "no UDP \(local) socket for the userspace data plane")
                }
                let plane = try Self.dataplane(sharing: socket, configuration: configuration, inbox: inbox)
                for t in plan.tunnels where t.ike.localAddress.bytes == address {
                    do {
                        try plane.addPeer(t.peer, device: try TUNDevice(name: t.interface.name))
                    } catch {
                        throw DaemonError.dataplane(error, "cannot create TUN interface \(t.interface.name) for peer \(t.peer)")
                    }
                    planeOfTunnel[t.tunnel] = plane
                    setMSSClamp(t, plane: plane)
                }
                do { try plane.start() } catch { throw DaemonError.dataplane(error, "cannot start the data plane on \(local)") }
                planes.append(plane)
                planeOfAddress[address] = plane
                taken.insert(socket.descriptor)
                logger.info("userspace data plane started", metadata: [
                    "socket": "\(local)", "peers": "\(plan.tunnels.filter { $0.ike.localAddress.bytes == address }.map(\.peer).joined(separator: ","))",
                ])
            }
            // Interfaces exist now: MTU and addresses, every tunnel down until its Child SA.
            try kernel.sync(down: links.down, logger: logger, throwing: true)
        } catch {
            detach()
            throw error
        }
        self.inbox = inbox
        return SharedSockets(inbox: inbox, readByDataplane: taken)
    }

    public func detach() {
        for p in planes {
            p.stop()
            let s = p.statistics
            logger.info("userspace data plane stopped", metadata: [
                "received": "\(s.datagramsReceived)", "sent": "\(s.datagramsSent)", "ike": "\(s.ikeDatagrams)",
                "unknown_spi": "\(s.unknownSPI)", "garbage": "\(s.garbageDatagrams)", "no_sa": "\(s.outboundWithoutSA)",
                "send_errors": "\(s.sendErrors)", "tun_errors": "\(s.tunReadErrors + s.tunWriteErrors)",
                "ike_dropped": "\(inbox?.droppedCount ?? 0)",
            ])
        }
        planes.removeAll()
        planeOfAddress.removeAll()
        planeOfTunnel.removeAll()
        inbox = nil
    }

    /// A data plane on a dup of the daemon's 4500 socket; IKE it reads goes to `inbox`.
    private static func dataplane(sharing socket: UDPSocket, configuration: UserspaceDataplane.Configuration,
                                  inbox: IKEInbox) throws(DaemonError) -> UserspaceDataplane {
        let duplicate: FileDescriptor
        do throws(Errno) { duplicate = try socket.duplicate() } catch {
            throw DaemonError(.system, "dup of the \(socket.local) socket failed: \(error)", errno: error)
        }
        do {
            // ESPSocket owns `duplicate` from here on, also when it throws.
            let esp = try ESPSocket(adopting: duplicate, local: socket.local)
            return try UserspaceDataplane(socket: esp, configuration: configuration) { inbox.post($0) }
        } catch {
            throw DaemonError.dataplane(error, "cannot attach the data plane to \(socket.local)")
        }
    }

    // MARK: KernelResyncing

    /// Looks at the whole kernel again; a failure is logged, the next sync or resync retries.
    public func resyncKernel() {
        _ = try? kernel.sync(down: links.down, logger: logger, throwing: false, resync: true)
    }

    // MARK: DataplaneBackend

    public func update(plan new: NodePlan) throws(DataplaneError) {
        let wanted = Set(new.tunnels.map(\.tunnel))
        for (tunnel, plane) in planeOfTunnel where !wanted.contains(tunnel) {
            plane.removePeer(tunnel.peer)
            planeOfTunnel[tunnel] = nil
            logger.info("tunnel interface removed", metadata: ["peer": "\(tunnel)", "dataplane": "userspace"])
        }
        for t in new.tunnels where planeOfTunnel[t.tunnel] == nil {
            guard let plane = planeOfAddress[t.ike.localAddress.bytes] else {
                throw DataplaneError(.configuration, "peer \(t.peer) needs local address \(t.ike.localAddress), which this daemon does not listen on; restart it to add an address")
            }
            do {
                try plane.addPeer(t.peer, device: try TUNDevice(name: t.interface.name))
            } catch {
                throw error.context("cannot create TUN interface \(t.interface.name) for peer \(t.peer)")
            }
            planeOfTunnel[t.tunnel] = plane
            logger.info("tunnel interface created", metadata: ["peer": "\(t.peer)", "interface": "\(t.interface.name)"])
        }
        plan = new
        links = links.replacingInterfaces(of: new)
        sizer.keep(only: new)
        kernel.update(plan: new)
        kernel.update(mtus: sizer.sizing.mtus)
        do { try kernel.sync(down: links.down, logger: logger, throwing: true) } catch { throw DataplaneError(error) }
        for t in new.tunnels { if let p = planeOfTunnel[t.tunnel] { setMSSClamp(t, plane: p) } }
    }

    public func install(_ sa: ChildSAParameters, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        guard let plane = planeOfTunnel[tunnel] else {
            throw DataplaneError(.unknownPeer, "peer \(peer) has no userspace data plane (is the daemon attached?)")
        }
        do { try plane.install(sa, peer: peer, activateOutbound: sa.activateOutbound) } catch { throw error.context("cannot install the child SA") }
        logger.info("child SA installed", metadata: [
            "peer": "\(peer)", "dataplane": "userspace",
            "spi": "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o",
            "enc": "\(AlgorithmText.encryption(sa.encryption))", "remote": "\(sa.peer)",
        ])
        let wentUp = links.installed(tunnel, inboundSPI: sa.inboundSPI)
        let planned = plan.tunnels.first { $0.tunnel == tunnel }
        let resized = planned.map { sizer.childSAInstalled(sa, tunnel: $0, kernel: kernel, logger: logger) } ?? false
        if let planned { setMSSClamp(planned, plane: plane) }
        if wentUp || resized { _ = try? kernel.sync(down: links.down, logger: logger, throwing: false) }
    }

    public func activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        guard let plane = planeOfTunnel[tunnel] else { return }
        do {
            try plane.activateOutbound(spi: outboundSPI, peer: peer)
        } catch {
            throw error.context("cannot switch to outbound SA \(SPIText.child(outboundSPI))")
        }
    }

    public func updatePeerEndpoint(inboundSPI: ESPSPI, peerEndpoint: IKEEndpoint, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        guard let plane = planeOfTunnel[tunnel] else { return }
        do { try plane.updatePeerEndpoint(peerEndpoint, peer: peer) } catch {
            throw error.context("cannot send ESP to the peer's new address \(peerEndpoint)")
        }
        logger.info("child SA destination updated", metadata: [
            "peer": "\(peer)", "dataplane": "userspace", "spi": "\(SPIText.child(inboundSPI))_i", "remote": "\(peerEndpoint)",
        ])
        // The path to the new address may have another MTU (RFC 4555 §3.5 moves, NAT rebinding).
        if let t = plan.tunnels.first(where: { $0.tunnel == tunnel }),
           sizer.peerMoved(t, to: peerEndpoint, kernel: kernel, logger: logger) {
            _ = try? kernel.sync(down: links.down, logger: logger, throwing: false)
            setMSSClamp(t, plane: plane)
        }
    }

    /// `mss-clamp` of `tunnel` from its current MTU, into the packet path.
    private func setMSSClamp(_ tunnel: TunnelPlan, plane: UserspaceDataplane) {
        let limits = sizer.sizing.mssClamp(of: tunnel).map {
            MSSClampLimits(ipv4: UInt16(clamping: $0.ipv4), ipv6: UInt16(clamping: $0.ipv6))
        }
        do { try plane.setMSSClamp(limits, peer: tunnel.peer) } catch {
            logger.warning("cannot set the MSS clamp", metadata: ["peer": "\(tunnel.peer)", "reason": "\(error.message)"])
        }
    }

    public func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        guard let plane = planeOfTunnel[tunnel] else { return }
        do {
            try plane.delete(inboundSPI: inboundSPI, outboundSPI: outboundSPI, peer: peer)
        } catch {
            throw error.context("cannot delete the child SA")
        }
        logger.info("child SA removed", metadata: [
            "peer": "\(peer)", "dataplane": "userspace",
            "spi": "\(SPIText.child(inboundSPI))_i \(SPIText.child(outboundSPI))_o",
        ])
        if links.deleted(tunnel, inboundSPI: inboundSPI) { _ = try? kernel.sync(down: links.down, logger: logger, throwing: false) }
    }

    public func counters(inboundSPI: ESPSPI) -> ChildSACounters? {
        for p in planes {
            guard let c = p.counters(inboundSPI: inboundSPI) else { continue }
            var out = ChildSACounters()
            out.inboundPackets = c.inbound.packetsIn
            out.inboundBytes = c.inbound.bytesIn
            out.outboundPackets = c.outbound.packetsOut
            out.outboundBytes = c.outbound.bytesOut
            return out
        }
        return nil
    }

    /// Data-plane-wide counters, one per local underlay address.
    public var statistics: [DataplaneStatistics] { planes.map(\.statistics) }
}
