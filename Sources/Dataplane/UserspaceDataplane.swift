import ViaductCrypto
import CryptoCore
import DataplaneContract
import ESP
import IKEv2
import NetTypes
import Synchronization
import System
import Topology

/// Viaduct's userspace data plane: for gateways whose kernel has no ESP. The same route-based
/// contract as the kernel path (one TUN interface per peer, named by the plan; the reconciler gives
/// it its MTU, inside addresses and routes), with ESP (RFC 4303) carried in UDP (RFC 3948) on the
/// 4500 socket IKE uses.
///
/// The daemon drives it with the shape of its `DataplaneBackend`: `addPeer` once a peer's TUN
/// exists, `install` on every `childSAReady`, `delete` on `childSADeleted`, `counters` for status
/// and byte/packet lifetimes. Packets move on two worker threads started by `start()`; see
/// docs/dataplane.md for the pipeline, the buffer layout and who owns which descriptor.
public final class UserspaceDataplane: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Packets per recvmmsg/sendmmsg/TUN batch.
        public var batchSize: Int = 64
        /// The largest inner packet a TUN may hand us (its MTU) and the largest datagram accepted.
        public var maximumPacketSize: Int = 65_535
        /// Anti-replay window per inbound SA (RFC 4303 §3.4.3; a multiple of 64).
        public var replayWindowSize: Int = ReplayWindow.defaultSize
        /// The workers' thread names are this plus `-out` and `-in` (15 bytes at most; `top -H`).
        public var threadName: String = "vd-esp"

        public init(batchSize: Int = 64, maximumPacketSize: Int = 65_535, replayWindowSize: Int = ReplayWindow.defaultSize,
                    threadName: String = "vd-esp") {
            self.batchSize = batchSize
            self.maximumPacketSize = maximumPacketSize
            self.replayWindowSize = replayWindowSize
            self.threadName = threadName
        }
    }

    let core: DataplaneCore
    private let registry = Mutex(PeerRegistry())
    private let workers = Mutex<[WorkerThread]>([])

    /// - Parameters:
    ///   - socket: the UDP/4500 socket (bound here, or a dup of the daemon's; see `ESPSocket`).
    ///   - ikeHandler: receives every IKE message (non-ESP marker stripped, RFC 3948 §2.2) that
    ///     arrives on the socket; called on the inbound worker thread, so it must only enqueue.
    public init(socket: ESPSocket, configuration: Configuration = Configuration(),
                ikeHandler: (@Sendable (IKEDatagram) -> Void)? = nil) throws(DataplaneError) {
        guard configuration.batchSize >= 1, configuration.maximumPacketSize >= 1280 else {
            throw DataplaneError(.system, "batch size must be ≥ 1 and the packet size ≥ 1280 (the IPv6 minimum MTU)")
        }
        core = try DataplaneCore(socket: socket, configuration: configuration, ikeHandler: ikeHandler)
    }

    deinit { stop() }

    // MARK: Peers

    /// Attaches a peer's TUN device. Packets the kernel routes into it are sent under the peer's
    /// current outbound SA once one is installed, and dropped (counted) before.
    public func addPeer(_ peer: String, device: TUNDevice) throws(DataplaneError) {
        try registry.withLock { (r) throws(DataplaneError) in
            guard r.devices[peer] == nil else {
                throw DataplaneError(.duplicatePeer, "peer '\(peer)' already has a TUN device")
            }
            r.devices[peer] = device
        }
        apply(core.outboundCommands, .addPeer(peer, device))
    }

    /// Detaches a peer and forgets its SAs. Its TUN device closes (and the interface disappears)
    /// once the outbound worker has dropped it.
    public func removePeer(_ peer: String) {
        let device = registry.withLock { $0.devices[peer] }
        let pairs: [(ESPSPI, ESPSPI)] = registry.withLock { r in
            r.devices[peer] = nil
            r.current[peer] = nil
            let mine = r.pairs.filter { $0.value.peer == peer }
            for spi in mine.keys { r.pairs[spi] = nil }
            return mine.map { ($0.key, $0.value.outbound) }
        }
        for (inbound, _) in pairs { apply(core.inboundCommands, .delete(spi: inbound)) }
        if let device { apply(core.inboundCommands, .setMSSClamp(device: device, limits: nil)) }
        apply(core.outboundCommands, .removePeer(peer))
    }

    // MARK: Child SAs (the daemon's DataplaneBackend shape)

    /// Installs a Child SA: the inbound SA first, and only once the inbound worker has it, the
    /// outbound one (make-before-break: during a rekey the new inbound SA accepts the peer's first
    /// packets on the new SPI before we switch, and the old inbound SA keeps accepting the old SPI
    /// until `delete`). Returns when both are in effect (if the workers run).
    ///
    /// - Parameters:
    ///   - lifetime: byte/packet limits (RFC 4301 §4.4.2.1) for each direction; `counters` reports
    ///     soft/hard, and an SA past hard refuses packets until deleted.
    ///   - activateOutbound: `false` installs the outbound SA without sending on it yet (for a
    ///     rekey responder that waits for the initiator, or a test that orders both ends);
    ///     `activateOutbound(spi:peer:)` switches later.
    public func install(_ sa: ChildSAParameters, peer: String, lifetime: ESPLifetime = .unlimited,
                        activateOutbound: Bool = true) throws(DataplaneError) {
        if let why = DataplaneKind.userspace.refusal(encryption: sa.encryption, integrity: sa.integrity) {
            throw DataplaneError(.unsupportedSA, why)
        }
        guard sa.udpEncapsulation else {
            throw DataplaneError(.unsupportedSA, "the userspace data plane carries ESP in UDP only (RFC 3948); force UDP encapsulation for this peer")
        }
        guard sa.peer.address.count == core.socket.local.address.count else {
            throw DataplaneError(.unsupportedSA, "peer \(sa.peer) and the ESP socket \(core.socket.local) are of different address families")
        }
        // RFC 3948 §2.1 / RFC 7296 §2.23: ESP in UDP goes to the peer's NAT-T port, 4500 unless
        // the peer floated elsewhere; never to 500.
        let port: UInt16 = sa.peer.port == 500 ? 4500 : sa.peer.port
        guard let destination = SocketAddress(IKEEndpoint(address: sa.peer.address, port: port)) else {
            throw DataplaneError(.unsupportedSA, "peer address \(sa.peer) is neither IPv4 nor IPv6")
        }
        // Built here once as a check, so a bad SA is refused now, not on a worker thread.
        _ = try SAFactory.inbound(sa, lifetime: lifetime, replayWindowSize: core.configuration.replayWindowSize)
        let ivMask = try SAFactory.randomIVMask()
        _ = try SAFactory.outbound(sa, lifetime: lifetime, ivMask: ivMask)

        let inboundSPI = sa.inboundSPI
        let outboundSPI = sa.outboundSPI
        let device: TUNDevice = try registry.withLock { (r) throws(DataplaneError) -> TUNDevice in
            guard let device = r.devices[peer] else {
                throw DataplaneError(.unknownPeer, "peer '\(peer)' has no TUN device; addPeer first")
            }
            r.pairs[inboundSPI] = PeerRegistry.Pair(peer: peer, outbound: outboundSPI)
            if activateOutbound { r.current[peer] = outboundSPI }
            return device
        }
        apply(core.inboundCommands, .install(sa: sa, device: device, lifetime: lifetime,
                                             replayWindowSize: core.configuration.replayWindowSize))
        apply(core.outboundCommands, .install(peer: peer, sa: sa, destination: destination, lifetime: lifetime,
                                              ivMask: ivMask, activate: activateOutbound))
    }

    /// Makes an installed outbound SA the one new packets use (the "break" of make-before-break).
    public func activateOutbound(spi: ESPSPI, peer: String) throws(DataplaneError) {
        try registry.withLock { (r) throws(DataplaneError) in
            guard r.pairs.values.contains(PeerRegistry.Pair(peer: peer, outbound: spi)) else {
                throw DataplaneError(.unknownSPI, "no outbound SA \(spi) for peer '\(peer)'")
            }
            r.current[peer] = spi
        }
        apply(core.outboundCommands, .activate(peer: peer, spi: spi))
    }

    /// RFC 7296 §2.23 / RFC 3948 §2.1: the peer's NAT mapping moved to `endpoint` (its IKE
    /// address and port, the one ESP in UDP uses as well): every SA of the peer sends there.
    public func updatePeerEndpoint(_ endpoint: IKEEndpoint, peer: String) throws(DataplaneError) {
        guard endpoint.address.count == core.socket.local.address.count else {
            throw DataplaneError(.unsupportedSA, "peer \(endpoint) and the ESP socket \(core.socket.local) are of different address families")
        }
        let port: UInt16 = endpoint.port == 500 ? 4500 : endpoint.port
        guard let destination = SocketAddress(IKEEndpoint(address: endpoint.address, port: port)) else {
            throw DataplaneError(.unsupportedSA, "peer address \(endpoint) is neither IPv4 nor IPv6")
        }
        let known = registry.withLock { $0.devices[peer] != nil }
        guard known else { throw DataplaneError(.unknownPeer, "peer '\(peer)' has no TUN device") }
        apply(core.outboundCommands, .setDestination(peer: peer, destination: destination))
    }

    /// `mss-clamp`: TCP SYN and SYN-ACK through this peer's tunnel, both ways, get their MSS
    /// option lowered to `limits` (nil: left alone). Only SYNs pay for it (`TCPMSSClamp`).
    public func setMSSClamp(_ limits: MSSClampLimits?, peer: String) throws(DataplaneError) {
        guard let device = registry.withLock({ $0.devices[peer] }) else {
            throw DataplaneError(.unknownPeer, "peer '\(peer)' has no TUN device")
        }
        apply(core.outboundCommands, .setMSSClamp(peer: peer, limits: limits))
        apply(core.inboundCommands, .setMSSClamp(device: device, limits: limits))
    }

    /// Removes a Child SA. When its outbound half was the current one, the peer falls back to
    /// another installed outbound SA, or to none (packets are then dropped and counted).
    /// Unknown SPIs are not an error: delete is idempotent, as the daemon may retry it.
    public func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) {
        registry.withLock { r in
            r.pairs[inboundSPI] = nil
            if r.current[peer] == outboundSPI {
                r.current[peer] = r.pairs.values.first { $0.peer == peer }?.outbound
            }
        }
        apply(core.outboundCommands, .delete(peer: peer, spi: outboundSPI))
        apply(core.inboundCommands, .delete(spi: inboundSPI))
    }

    /// Counters of the Child SA whose inbound SPI this is, or nil when none is installed. As of
    /// the workers' last batch (they publish after each one).
    public func counters(inboundSPI: ESPSPI) -> UserspaceSACounters? {
        let spi = inboundSPI
        let found: (PeerRegistry.Pair, Bool)? = registry.withLock { r in
            r.pairs[spi].map { ($0, r.current[$0.peer] == $0.outbound) }
        }
        guard let (pair, current) = found else { return nil }
        let reports: (SAReport?, SAReport?) = core.published.withLock { ($0.inbound[spi], $0.outbound[pair.outbound]) }
        guard let incoming = reports.0, let outgoing = reports.1 else { return nil }
        return UserspaceSACounters(peer: pair.peer, inboundSPI: spi, outboundSPI: pair.outbound,
                                   inbound: incoming.statistics, outbound: outgoing.statistics,
                                   inboundLifetime: incoming.lifetime, outboundLifetime: outgoing.lifetime,
                                   carriesOutbound: current, outboundSequenceNumber: outgoing.sequenceNumber)
    }

    /// Data-plane-wide counters (garbage, unknown SPI, IKE handed over, ...).
    public var statistics: DataplaneStatistics {
        let (sending, receiving) = core.published.withLock { ($0.outboundWide, $0.inboundWide) }
        var result = receiving
        result.outboundWithoutSA = sending.outboundWithoutSA
        result.encapsulationErrors = sending.encapsulationErrors
        result.datagramsSent = sending.datagramsSent
        result.sendErrors = sending.sendErrors
        result.tunReadErrors = sending.tunReadErrors
        result.tunSuperPacketsRead = sending.tunSuperPacketsRead
        result.offloadErrors = sending.offloadErrors
        return result
    }

    /// Submits a command and, while the workers run, waits until it is in effect: that is what
    /// orders "inbound installed" before "outbound switched".
    private func apply<C: Sendable>(_ queue: CommandQueue<C>, _ command: C) {
        let ticket = queue.submit(command)
        if core.running.load(ordering: .acquiring) { queue.wait(for: ticket) }
    }

    // MARK: Workers

    /// Starts the outbound (TUN → ESP → UDP) and inbound (UDP → ESP → TUN) workers. Commands
    /// given before are applied first.
    public func start() throws(DataplaneError) {
        try workers.withLock { (threads) throws(DataplaneError) in
            guard threads.isEmpty else { return }
            let core = self.core
            core.stopping.store(false, ordering: .sequentiallyConsistent)
            let name = core.configuration.threadName
            threads.append(try WorkerThread(name: name + "-out") { OutboundWorker(core: core).run() })
            do throws(DataplaneError) {
                threads.append(try WorkerThread(name: name + "-in") { InboundWorker(core: core).run() })
            } catch {
                core.stopping.store(true, ordering: .sequentiallyConsistent)
                core.outboundCommands.wake.signal()
                threads.forEach { $0.join() }
                threads.removeAll()
                throw error
            }
            core.running.store(true, ordering: .sequentiallyConsistent)
        }
    }

    /// Stops the workers and waits for them. Safe to call twice; `deinit` calls it. The SAs die
    /// with their workers: after `stop`, reinstall before `start` again.
    public func stop() {
        let threads = workers.withLock { threads in
            let t = threads
            threads.removeAll()
            return t
        }
        guard !threads.isEmpty else { return }
        core.running.store(false, ordering: .sequentiallyConsistent)
        core.stopping.store(true, ordering: .sequentiallyConsistent)
        core.outboundCommands.wake.signal()
        core.inboundCommands.wake.signal()
        threads.forEach { $0.join() }
    }
}

extension UserspaceDataplane {
    /// ESP (or anything else) that arrived on the daemon's 4500 socket, for a daemon that keeps
    /// reading that socket itself. `from` is not used to pick the SA (RFC 4303 §3.4.2: the SPI
    /// alone does, so a NAT rebinding does not break the tunnel). IKE passed here is counted as
    /// dropped: the daemon keeps its own IKE.
    public func handleInboundESP(_ payload: [UInt8], from endpoint: IKEEndpoint) {
        core.inboundCommands.submit(.datagram(payload))
    }
}
