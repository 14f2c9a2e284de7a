#if canImport(Glibc)
import DataplaneContract
import Glibc
import NetTypes
#endif
import IKEv2
import KernelModel
import Topology

extension DataplaneError.Code {
    /// The kernel refused an XFRM request (no ESP module, unknown algorithm, duplicate SPI, ...).
    public static let kernel = DataplaneError.Code(rawValue: "kernel")
}

/// The production data plane: negotiated Child SAs become kernel XFRM states bound to the
/// peer's tunnel interface (xfrm `if_id` or VTI mark), and the kernel does ESP.
///
/// The interfaces, addresses, routes and route-based policies are the reconciler's
/// (`KernelReconciliation` with `backend: .kernel`); this class only adds and removes SAs, so it
/// holds nothing but one NETLINK_XFRM socket (opened in the caller's network namespace, owned and
/// closed here) and a table of what it installed. Same shape as `UserspaceDataplane`: the daemon
/// can call either.
///
/// Make-before-break (RFC 7296 §2.8): the new inbound state goes in first, so the peer may switch
/// as soon as it likes; then the new outbound state, which the kernel prefers over the old one for
/// the same reqid because it is newer (xfrm_state_find picks the latest added); the old pair is
/// deleted only when the daemon says so. Not `Sendable`: one owner, the daemon's thread.
public final class KernelDataplane {
    public let name = "kernel"
    private let socket: NetlinkSocket
    private var bindings: [String: KernelSABinding]
    private let replayWindow: UInt32
    /// What this data plane installed, by inbound SPI.
    private var installed: [ESPSPI: Installed] = [:]

    private struct Installed {
        var peer: String
        var inbound: XfrmStateKey
        var outbound: XfrmStateKey
        /// The outbound state while the daemon defers its activation (a rekey responder).
        var pendingOutbound: XfrmState?
        /// The outbound state as installed, for XFRM_MSG_UPDSA when the peer's NAT port moves.
        var outboundState: XfrmState
    }

    /// Opens the XFRM socket in the calling thread's network namespace.
    public init(bindings: [String: KernelSABinding], replayWindow: UInt32 = KernelSAStates.defaultReplayWindow) throws(DataplaneError) {
        do {
            socket = try NetlinkSocket(.xfrm)
        } catch {
            throw KernelDataplane.translate(error)
        }
        self.bindings = bindings
        self.replayWindow = replayWindow
    }

    /// Adds or changes a peer's binding (a peer added to the topology while running).
    public func setBinding(_ binding: KernelSABinding?, peer: String) {
        bindings[peer] = binding
    }

    /// The SPIs this data plane installed (inbound SPI -> peer).
    public var installedSAs: [ESPSPI: String] { installed.mapValues(\.peer) }

    /// Installs a Child SA: inbound state, then (unless deferred) outbound, in one netlink batch
    /// that the kernel applies in order. On a partial failure what went in is taken out again.
    ///
    /// Equivalent to: `ip xfrm state add src PEER dst LOCAL proto esp spi IN reqid ID mode tunnel
    /// replay-window 128 flag af-unspec if_id ID aead 'rfc4106(gcm(aes))' KEY 128` and the same
    /// for OUT with src and dst swapped.
    public func install(_ sa: ChildSAParameters, peer: String, activateOutbound: Bool = true) throws(DataplaneError) {
        guard let binding = bindings[peer] else {
            throw DataplaneError(.unknownPeer, "no tunnel interface for peer \(peer)")
        }
        let states = try KernelSAStates(sa, binding: binding, replayWindow: replayWindow)
        var requests: [NetlinkRequest] = []
        do {
            requests.append(try states.inbound.addRequest())
            if activateOutbound { requests.append(try states.outbound.addRequest()) }
        } catch {
            throw DataplaneError(.invalidSA, "\(error)")
        }
        let outcomes: [NetlinkOutcome]
        do { outcomes = try socket.send(batch: requests) } catch { throw KernelDataplane.translate(error) }
        if let failure = outcomes.first(where: { $0.error != nil })?.error {
            // Undo whatever went in, so a retry starts from nothing.
            let added = zip(outcomes, [states.inbound.key, states.outbound.key]).filter { $0.0.error == nil }.map { $0.1.deleteRequest() }
            if !added.isEmpty { _ = try? socket.send(batch: added) }
            throw KernelDataplane.translate(failure)
        }
        installed[sa.inboundSPI] = Installed(peer: peer, inbound: states.inbound.key, outbound: states.outbound.key,
                                             pendingOutbound: activateOutbound ? nil : states.outbound,
                                             outboundState: states.outbound)
    }

    /// Adds the deferred outbound state with SPI `spi` (the peer's SPI, as in
    /// `UserspaceDataplane.activateOutbound`); from then on the kernel sends new packets through
    /// it. Nothing to do when it is already active.
    public func activateOutbound(spi: ESPSPI, peer: String) throws(DataplaneError) {
        guard let (inboundSPI, found) = installed.first(where: { $0.value.peer == peer && $0.value.outbound.spi == spi.rawValue }) else {
            throw DataplaneError(.unknownSPI, "no SA with outbound SPI \(KernelDataplane.hex(spi.rawValue)) for peer \(peer)")
        }
        var entry = found
        guard let pending = entry.pendingOutbound else { return }
        do {
            try socket.apply([try pending.addRequest()])
        } catch let error as NetlinkError {
            throw KernelDataplane.translate(error)
        } catch {
            throw DataplaneError(.invalidSA, "\(error)")
        }
        entry.pendingOutbound = nil
        installed[inboundSPI] = entry
    }

    /// RFC 7296 §2.23 / RFC 3948: the peer's NAT gave it a new port; ESP in UDP of this Child
    /// SA goes there from now on. The kernel keys an SA by destination address, so only the port
    /// can move in place (XFRM_MSG_UPDSA rewrites the encapsulation template); a new address
    /// would need XFRM_MSG_MIGRATE and is refused.
    ///
    /// Equivalent to: `ip xfrm state update src L dst P proto esp spi OUT ... encap espinudp 4500 PORT 0.0.0.0`.
    public func updatePeerEndpoint(inboundSPI: ESPSPI, address: [UInt8], port: UInt16, peer: String) throws(DataplaneError) {
        guard var entry = installed[inboundSPI], entry.peer == peer else {
            throw DataplaneError(.unknownSPI, "no SA with inbound SPI \(KernelDataplane.hex(inboundSPI.rawValue)) for peer \(peer)")
        }
        guard let newAddress = IPAddress(networkBytes: address) else {
            throw DataplaneError(.invalidSA, "peer address of \(address.count) octets")
        }
        guard newAddress == entry.outboundState.destination else {
            throw DataplaneError(.unsupportedSA, "the kernel data plane cannot move SA \(KernelDataplane.hex(entry.outbound.spi)) from \(entry.outboundState.destination) to \(newAddress) (needs XFRM_MSG_MIGRATE); only the NAT port may change")
        }
        let espPort = KernelSAStates.espPort(port)
        var state = entry.outboundState
        guard var encap = state.encapsulation, encap.destinationPort != espPort else { return }
        encap.destinationPort = espPort
        state.encapsulation = encap
        if entry.pendingOutbound == nil {
            do {
                try socket.apply([try state.updateRequest()])
            } catch let error as NetlinkError {
                throw KernelDataplane.translate(error)
            } catch {
                throw DataplaneError(.invalidSA, "\(error)")
            }
        } else {
            entry.pendingOutbound = state
        }
        entry.outboundState = state
        installed[inboundSPI] = entry
    }

    /// Deletes both states. Idempotent: a state already gone (the kernel's hard expiry, an
    /// operator's `ip xfrm state flush`) is not an error.
    ///
    /// Equivalent to: `ip xfrm state delete src S dst D proto esp spi SPI [mark M]`, twice.
    public func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) {
        var keys: [XfrmStateKey] = []
        if let entry = installed[inboundSPI] {
            keys.append(entry.inbound)
            if entry.pendingOutbound == nil { keys.append(entry.outbound) }
        }
        installed[inboundSPI] = nil
        guard !keys.isEmpty else { return }
        let outcomes: [NetlinkOutcome]
        do { outcomes = try socket.send(batch: keys.map { $0.deleteRequest() }) } catch { throw KernelDataplane.translate(error) }
        for outcome in outcomes {
            if let error = outcome.error, !(error.code == .kernel && (error.errno == ESRCH || error.errno == ENOENT)) {
                throw KernelDataplane.translate(error)
            }
        }
    }

    /// The kernel's counters for the SA with inbound SPI `inboundSPI`; nil when this data plane
    /// did not install it or the kernel no longer has it.
    ///
    /// Equivalent to: `ip -s xfrm state get ...` for each of the two states.
    public func counters(inboundSPI: ESPSPI) -> KernelSACounters? {
        guard let entry = installed[inboundSPI] else { return nil }
        var counters = KernelSACounters()
        do {
            let inbound = try KernelSACounters.usage(of: try socket.query(entry.inbound.getRequest()))
            counters.inboundPackets = inbound.packets
            counters.inboundBytes = inbound.bytes
            counters.inboundReplayDrops = inbound.replay
            counters.inboundIntegrityFailures = inbound.integrity
            if entry.pendingOutbound == nil {
                let outbound = try KernelSACounters.usage(of: try socket.query(entry.outbound.getRequest()))
                counters.outboundPackets = outbound.packets
                counters.outboundBytes = outbound.bytes
            }
        } catch {
            return nil
        }
        return counters
    }

    /// Deletes every SA bound to one of this data plane's tunnels that it did not install
    /// itself: what a previous run left when it was killed (SIGKILL, a crash, power loss). Its
    /// IKE SAs died with it, so nothing can rekey or delete those states any more; the new IKE
    /// SAs bring fresh ones (and INITIAL_CONTACT tells the peer to drop its side). Returns the
    /// deleted states' summaries. Foreign SAs (other bindings) are never touched.
    ///
    /// Equivalent to: `ip xfrm state delete ...` for each `ip xfrm state` bound to our if_ids/marks.
    public func removeStale() throws(DataplaneError) -> [String] {
        let mine = Set(installed.values.flatMap { [$0.inbound, $0.outbound] })
        let stale: [XfrmState]
        do {
            stale = KernelSAOwnership.states(try socket.states(), bindings: Set(bindings.values))
                .filter { !mine.contains($0.key) }
        } catch {
            throw KernelDataplane.translate(error)
        }
        guard !stale.isEmpty else { return [] }
        let outcomes: [NetlinkOutcome]
        do { outcomes = try socket.send(batch: stale.map { $0.key.deleteRequest() }) } catch { throw KernelDataplane.translate(error) }
        var removed: [String] = []
        for outcome in outcomes {
            if let error = outcome.error, !(error.code == .kernel && (error.errno == ESRCH || error.errno == ENOENT)) {
                throw KernelDataplane.translate(error)
            }
            removed.append(outcome.request.summary)
        }
        return removed
    }

    /// `c1a2b3c4`, strongSwan's spelling of a Child SA SPI.
    static func hex(_ spi: UInt32) -> String {
        let digits = String(spi, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    static func translate(_ error: NetlinkError) -> DataplaneError {
        switch error.code {
        case .kernel:
            var message = error.description
            if error.errno == ENOENT || error.errno == ENOSYS || error.errno == EPROTONOSUPPORT {
                message += " (does this kernel have ESP, the algorithm, and xfrm interfaces/VTI? modprobe esp4 esp6 xfrm_interface)"
            }
            return DataplaneError(.kernel, message, errno: error.errno)
        case .system where error.errno == EPERM || error.errno == EACCES:
            return DataplaneError(.permissionDenied, error.description, errno: error.errno)
        case .system:
            return DataplaneError(.system, error.description, errno: error.errno)
        default:
            return DataplaneError(.kernel, error.description)
        }
    }
}

