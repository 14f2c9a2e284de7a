import IKEv2
import Logging

/// The daemon's logic without its I/O: routes datagrams to sessions (creating a responder
/// session for a configured peer's new IKE_SA_INIT), fires deadlines, re-initiates failed
/// initiator SAs after a pause, collects what sessions transmit, and turns their events into
/// log lines and data-plane calls. `IKEEventLoop` feeds it from sockets and a real clock;
/// tests feed it directly with fake sessions and a fake clock. One owner calls it.
public final class DaemonCore {
    public private(set) var counters = DaemonCounters()
    private var table = SessionTable()
    private var outbox: [IKEDatagram] = []
    private let factory: any IKESessionFactory
    private let dataplane: any DataplaneBackend
    private let logger: Logger
    /// Child SAs handed to the data plane and not yet deleted, per session (inbound → outbound
    /// SPI): an IKE SA that dies without deleting them (DPD, retransmission timeout) must not
    /// leave them installed, nor its tunnel up.
    private var liveChildren: [SessionTable.SessionID: [UInt32: UInt32]] = [:]
    /// Initiator peers waiting to try again, by peer index.
    private var reinitiateAt: [Int: IKEInstant] = [:]
    /// Pause before an initiator opens a new IKE SA after the previous one failed or was deleted.
    public var reinitiateDelaySeconds: Double
    /// Called for every event after it is logged and applied; for status and tests.
    public var onEvent: ((String, IKEEvent) -> Void)?

    public init(factory: any IKESessionFactory, dataplane: any DataplaneBackend, logger: Logger,
                reinitiateDelaySeconds: Double = 30) {
        self.factory = factory
        self.dataplane = dataplane
        self.logger = logger
        self.reinitiateDelaySeconds = reinitiateDelaySeconds
    }

    public var peers: [DaemonPeer] { table.peers }
    public var liveSessionCount: Int { table.sessions.values.filter { !$0.finished }.count }

    public func add(peer: DaemonPeer) {
        _ = table.addPeer(peer)
    }

    /// Initiator peers open their IKE SA; responder peers wait for theirs.
    public func start(now: IKEInstant) {
        for (i, p) in table.peers.enumerated() {
            logger.info("peer configured", metadata: [
                "peer": "\(p.name)", "role": "\(p.initiator ? "initiator" : "responder")",
                "local": "\(p.local)", "remote": "\(p.remote)",
            ])
            if p.initiator { initiate(peerIndex: i, now: now) }
        }
    }

    private func initiate(peerIndex i: Int, now: IKEInstant) {
        let peer = table.peers[i]
        reinitiateAt[i] = nil
        do {
            let s = try factory.makeSession(for: peer, initiator: true)
            let id = table.addSession(s, peerIndex: i)
            logger.info("initiating IKE SA", metadata: ["peer": "\(peer.name)", "remote": "\(peer.remote)"])
            _ = table.withSession(id) { $0.start(now: now) }
            drain(id, now: now)
        } catch {
            logger.error("cannot create IKE session", metadata: ["peer": "\(peer.name)", "reason": "\(error.message)"])
            reinitiateAt[i] = now.adding(seconds: reinitiateDelaySeconds)
        }
    }

    /// One datagram off a socket, already classified by port.
    public func handle(_ inbound: IKESocketSet.Inbound, now: IKEInstant) {
        counters.datagramsReceived += 1
        switch inbound {
        case .ike(let d): receive(d, now: now)
        case .esp: counters.espOnNATTPort += 1
        case .keepalive: counters.natKeepalives += 1
        case .malformed: counters.malformed += 1
        }
    }

    public func receive(_ datagram: IKEDatagram, now: IKEInstant) {
        guard let route = IKEMessageRoute(datagram.bytes) else {
            counters.malformed += 1
            logger.debug("dropped datagram: not an IKEv2 message", metadata: [
                "from": "\(datagram.source)", "bytes": "\(datagram.bytes.count)", "reason": "malformed",
            ])
            return
        }
        IKEFragmentLog.received(datagram, logger: logger)
        switch table.route(route, from: datagram.source.address) {
        case .session(let id):
            _ = table.withSession(id) { $0.receive(datagram, now: now) }
            drain(id, now: now)
        case .newSA(let peerIndex):
            let peer = table.peers[peerIndex]
            do {
                let s = try factory.makeSession(for: peer, initiator: false)
                let key = SessionTable.HalfOpenKey(address: datagram.source.address, initiatorSPI: route.initiatorSPI)
                let id = table.addSession(s, peerIndex: peerIndex, halfOpen: key)
                logger.info("IKE SA requested by peer", metadata: [
                    "peer": "\(peer.name)", "from": "\(datagram.source)", "spi": "\(SPIText.ike(route.initiatorSPI))_i",
                ])
                _ = table.withSession(id) { $0.receive(datagram, now: now) }
                drain(id, now: now)
            } catch {
                logger.error("cannot create IKE session", metadata: ["peer": "\(peer.name)", "reason": "\(error.message)"])
            }
        case .unknownPeer:
            counters.unknownPeer += 1
            logger.debug("dropped datagram from an unknown peer", metadata: [
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(route.initiatorSPI))_i", "reason": "unknown-peer",
            ])
        case .unknownSPI:
            counters.unknownSPI += 1
            logger.debug("dropped datagram for an unknown IKE SA", metadata: [
                "from": "\(datagram.source)", "spi": "\(SPIText.ike(route.initiatorSPI))_i \(SPIText.ike(route.responderSPI))_r",
                "reason": "unknown-spi",
            ])
        }
    }

    /// Calls `timeout(now:)` on every session whose deadline has passed, re-initiates where
    /// the pause is over, and forgets finished sessions.
    public func fireTimers(now: IKEInstant) {
        for (id, entry) in table.sessions {
            guard let d = entry.session.nextDeadline, d <= now else { continue }
            _ = table.withSession(id) { $0.timeout(now: now) }
            drain(id, now: now)
        }
        for (i, at) in reinitiateAt where at <= now { initiate(peerIndex: i, now: now) }
        _ = table.reap()
    }

    /// The earliest deadline of any session or pending re-initiation.
    public var nextDeadline: IKEInstant? {
        (table.sessions.values.compactMap(\.session.nextDeadline) + reinitiateAt.values).min()
    }

    /// Everything the sessions want sent, in order; empties the queue.
    public func takeOutgoing() -> [IKEDatagram] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    public func noteSent() { counters.datagramsSent += 1 }

    public func noteSendFailure(_ datagram: IKEDatagram, _ error: DaemonError) {
        counters.sendErrors += 1
        logger.warning("send failed", metadata: [
            "peer": "\(peerName(for: datagram.destination.address))", "reason": "\(error.message)",
        ])
    }

    public func noteReceiveFailure(_ error: DaemonError) {
        counters.receiveErrors += 1
        logger.warning("receive failed", metadata: ["reason": "\(error.message)"])
    }

    private func peerName(for address: [UInt8]) -> String {
        table.peers.first { $0.addresses.contains(address) }?.name ?? "?"
    }

    private func drain(_ id: SessionTable.SessionID, now: IKEInstant) {
        while let d = table.withSession(id, { $0.pollTransmit() }) ?? nil {
            if d.isNATKeepalive {
                counters.natKeepalivesSent += 1
            } else {
                table.learn(outgoing: d.bytes, from: id)
                IKEFragmentLog.sent(d, logger: logger)
            }
            outbox.append(d)
        }
        guard let peerIndex = table.sessions[id]?.peerIndex else { return }
        let peer = table.peers[peerIndex]
        while let e = table.withSession(id, { $0.pollEvent() }) ?? nil {
            apply(e, peer: peer.name)
            switch e {
            case .ikeSAEstablished:
                reinitiateAt[peerIndex] = nil
            case .childSAReady(let sa):
                liveChildren[id, default: [:]][sa.inboundSPI] = sa.outboundSPI
            case .childSADeleted(let inbound, _):
                liveChildren[id]?[inbound] = nil
            case .ikeSAFailed, .ikeSADeleted:
                for (inbound, outbound) in liveChildren.removeValue(forKey: id) ?? [:] {
                    apply(.childSADeleted(inboundSPI: inbound, outboundSPI: outbound), peer: peer.name)
                }
                table.markFinished(id)
                if peer.initiator && table.liveSessions(ofPeer: peerIndex) == 0 && reinitiateAt[peerIndex] == nil {
                    // Wait before trying again, unless the peer opens one first.
                    reinitiateAt[peerIndex] = now.adding(seconds: reinitiateDelaySeconds)
                }
            default: break
            }
            onEvent?(peer.name, e)
        }
    }

    private func apply(_ event: IKEEvent, peer: String) {
        switch event {
        case .ikeSAEstablished(let spiI, let spiR, let proposal, let peerIdentity, let local, let remote):
            logger.info("IKE SA established", metadata: [
                "peer": "\(peer)", "spi": "\(SPIText.ike(spiI))_i \(SPIText.ike(spiR))_r",
                "proposal": "\(proposal)", "peer_id": "\(peerIdentity)", "local": "\(local)", "remote": "\(remote)",
            ])
        case .childSAReady(let sa):
            logger.info("child SA established", metadata: [
                "peer": "\(peer)", "spi": "\(SPIText.child(sa.inboundSPI))_i \(SPIText.child(sa.outboundSPI))_o",
                "enc": "\(AlgorithmText.encryption(sa.encryption))",
                "integ": "\(sa.integrity.map(AlgorithmText.integrity) ?? "none")",
            ])
            do {
                try dataplane.install(sa, peer: peer)
            } catch {
                logger.error("data plane refused the child SA", metadata: [
                    "peer": "\(peer)", "spi": "\(SPIText.child(sa.inboundSPI))_i", "reason": "\(error.message)",
                ])
            }
        case .childSADeleted(let inbound, let outbound):
            do {
                try dataplane.delete(inboundSPI: inbound, outboundSPI: outbound, peer: peer)
            } catch {
                logger.error("data plane could not delete the child SA", metadata: [
                    "peer": "\(peer)", "spi": "\(SPIText.child(inbound))_i", "reason": "\(error.message)",
                ])
            }
        case .ikeSAFailed(let f):
            var metadata: Logger.Metadata = [
                "peer": "\(peer)", "reason": "\(f.code.rawValue)", "detail": "\(f.message)",
                "by": "\(f.reportedByPeer ? "peer" : "local")",
            ]
            if let n = f.notify { metadata["notify"] = "\(NotifyName.of(n))" }
            logger.error("IKE SA failed", metadata: metadata)
        case .ikeSADeleted:
            logger.info("IKE SA deleted", metadata: ["peer": "\(peer)"])
        case .childSAOutboundActivated(let inbound, let outbound):
            do {
                try dataplane.activateOutbound(inboundSPI: inbound, outboundSPI: outbound, peer: peer)
            } catch {
                logger.error("data plane could not switch to the new child SA", metadata: [
                    "peer": "\(peer)", "spi": "\(SPIText.child(inbound))_i", "reason": "\(error.message)",
                ])
            }
        case .deadPeer(let action):
            logger.warning("peer is not answering", metadata: ["peer": "\(peer)", "action": "\(action.rawValue)"])
        case .initialContact(let identity):
            logger.info("peer sent INITIAL_CONTACT", metadata: ["peer": "\(peer)", "peer_id": "\(identity)"])
        case .peerEndpointChanged(let previous, let remote, let spis):
            logger.notice("peer address changed", metadata: [
                "peer": "\(peer)", "from": "\(previous)", "to": "\(remote)", "children": "\(spis.count)",
            ])
            for spi in spis {
                do {
                    try dataplane.updatePeerEndpoint(inboundSPI: spi, peerEndpoint: remote, peer: peer)
                } catch {
                    logger.error("data plane could not follow the peer's new address", metadata: [
                        "peer": "\(peer)", "spi": "\(SPIText.child(spi))_i", "reason": "\(error.message)",
                    ])
                }
            }
        }
    }
}
