import DataplaneContract
import IKEv2
import Logging
import NetTypes

/// The I/O half of the peer level of IKE: feeds the sans-I/O endpoint (`IKESAManager`, which
/// decides everything) and performs what it returns, in order: data-plane calls, log lines,
/// and the events status, metrics and systemd observe. Datagrams to send stay queued for the
/// event loop (`takeOutgoing`), which sends them after the actions of the same call, so a Child
/// SA is in the data plane before the message that completes it leaves. One owner calls it.
public final class EndpointDriver {
    public let endpoint: IKESAManager
    private let dataplane: any DataplaneBackend
    private let logger: Logger
    /// Called for every event the endpoint reports, with its tunnel: status, metrics, systemd, tests.
    public var onEvent: ((TunnelID, IKEEvent) -> Void)?
    /// Called when this end sends a new IKE_SA_INIT for a tunnel; metrics time the handshake
    /// from here.
    public var onInitiate: ((TunnelID, IKEInstant) -> Void)?
    /// Called instead of `onEvent(.childSAReady)` when the data plane refused to install that
    /// Child SA: the engine holds an SA that carries nothing, so status, metrics and systemd
    /// must not count it as up; `status` shows the backend's reason instead. The driver then
    /// has the endpoint delete that Child SA (RFC 7296 §1.4.1), so the peer stops sending into
    /// it and the tunnel is rebuilt like any tunnel that lost its Child SA.
    public var onChildSARefused: ((TunnelID, ChildSAParameters, DataplaneError) -> Void)?
    /// Child SAs the data plane refused, by tunnel and inbound SPI, until the engine deletes
    /// them or their IKE SA goes.
    private var refused: [TunnelID: [ESPSPI: DataplaneError]] = [:]
    /// Refused Child SAs reported ready and not yet handed to the endpoint for deletion (the
    /// endpoint needs the time, which calls such as `noteSent` do not have).
    private var refusedToDelete: [(tunnel: TunnelID, spi: ESPSPI, reason: String)] = []

    public init(factory: any IKESessionFactory, dataplane: any DataplaneBackend, logger: Logger,
                reinitiateDelaySeconds: Double = 30, admission: IKEAdmissionGate? = nil) {
        endpoint = IKESAManager(factory: factory, logLevel: Self.level(logger.logLevel),
                                reinitiateDelaySeconds: reinitiateDelaySeconds, admission: admission)
        self.dataplane = dataplane
        self.logger = logger
    }

    // MARK: Feeding the endpoint (each call performs what it returned)

    public func add(peer: IKETunnelPeer) { endpoint.add(peer: peer) }

    public func start(now: IKEInstant) {
        endpoint.start(now: now)
        performActions(now: now)
    }

    public func addRunning(peer: IKETunnelPeer, now: IKEInstant) {
        endpoint.addRunning(peer: peer, now: now)
        performActions(now: now)
    }

    @discardableResult
    public func removeRunning(_ tunnel: TunnelID, now: IKEInstant) -> Bool {
        defer { performActions(now: now) }
        return endpoint.removeRunning(tunnel, now: now)
    }

    /// One datagram off a socket, already classified by port.
    public func handle(_ inbound: IKESocketSet.Inbound, now: IKEInstant) {
        switch inbound {
        case .ike(let d): endpoint.receive(d, now: now)
        case .esp: endpoint.noteReceived(.espOnNATTPort)
        case .keepalive: endpoint.noteReceived(.natKeepalive)
        case .malformed: endpoint.noteReceived(.malformed)
        }
        performActions(now: now)
    }

    public func receive(_ datagram: IKEDatagram, now: IKEInstant) {
        endpoint.receive(datagram, now: now)
        performActions(now: now)
    }

    public func fireTimers(now: IKEInstant) {
        endpoint.fireTimers(now: now)
        performActions(now: now)
    }

    /// A peer's name resolved anew: see `IKESAManager.updateAddresses`.
    public func updateAddresses(of tunnel: TunnelID, addresses: [[UInt8]], remote: IKEEndpoint) {
        endpoint.updateAddresses(of: tunnel, addresses: addresses, remote: remote)
        performActions()
    }

    /// What a peer's IKE SA waited for arrived (its name's answer): it is opened now.
    public func resume(_ tunnel: TunnelID, now: IKEInstant) {
        guard endpoint.resume(tunnel, now: now) else { return }
        fireTimers(now: now)
    }

    public func perform(_ command: SessionCommand, tunnel: TunnelID, now: IKEInstant) -> String? {
        defer { performActions(now: now) }
        return endpoint.perform(command, tunnel: tunnel, now: now)
    }

    public func closeAll(now: IKEInstant) -> Int {
        defer { performActions(now: now) }
        return endpoint.closeAll(now: now)
    }

    public func takeOutgoing() -> [IKEDatagram] { endpoint.takeOutgoing() }

    public func noteSent() { endpoint.noteSent() }

    public func noteSendFailure(_ datagram: IKEDatagram, _ error: DaemonError) {
        endpoint.noteSendFailure(datagram, reason: error.message)
        performActions()
    }

    public func noteReceiveFailure(_ error: DaemonError) {
        endpoint.noteReceiveFailure(reason: error.message)
        performActions()
    }

    // MARK: Reading it

    public var factory: any IKESessionFactory {
        get { endpoint.factory }
        set { endpoint.factory = newValue }
    }
    /// The endpoint's pauses (seconds), as `viaduct run` and tests tune them.
    public var reinitiateDelaySeconds: Double {
        get { endpoint.reinitiateDelaySeconds }
        set { endpoint.reinitiateDelaySeconds = newValue }
    }
    public var deferredOutboundSeconds: Double {
        get { endpoint.deferredOutboundSeconds }
        set { endpoint.deferredOutboundSeconds = newValue }
    }
    public var duplicateGraceSeconds: Double {
        get { endpoint.duplicateGraceSeconds }
        set { endpoint.duplicateGraceSeconds = newValue }
    }
    public var counters: IKEEndpointCounters { endpoint.counters }
    public var peers: [IKETunnelPeer] { endpoint.peers }
    public var liveSessionCount: Int { endpoint.liveSessionCount }
    public var nextDeadline: IKEInstant? { endpoint.nextDeadline }

    // MARK: Performing

    /// Performs the endpoint's actions; with `now`, also deletes the Child SAs the data plane
    /// refused (which queues more actions, performed in the same call).
    private func performActions(now: IKEInstant? = nil) {
        performQueuedActions()
        guard let now else { return }
        while !refusedToDelete.isEmpty {
            let pending = refusedToDelete
            refusedToDelete = []
            for r in pending {
                endpoint.deleteRefusedChildSA(inboundSPI: r.spi, tunnel: r.tunnel, reason: r.reason, now: now)
            }
            performQueuedActions()
        }
    }

    private func performQueuedActions() {
        for action in endpoint.takeActions() {
            switch action {
            case .installChildSA(let sa, let tunnel):
                if let error = attempt("data plane refused the child SA", tunnel, spi: sa.inboundSPI, { () throws(DataplaneError) in
                    try dataplane.install(sa, tunnel: tunnel)
                }) {
                    refused[tunnel, default: [:]][sa.inboundSPI] = error
                }
            case .deleteChildSA(let inbound, let outbound, let tunnel):
                attempt("data plane could not delete the child SA", tunnel, spi: inbound) { () throws(DataplaneError) in
                    try dataplane.delete(inboundSPI: inbound, outboundSPI: outbound, tunnel: tunnel)
                }
            case .activateOutbound(let inbound, let outbound, let tunnel):
                attempt("data plane could not switch to the new child SA", tunnel, spi: inbound) { () throws(DataplaneError) in
                    try dataplane.activateOutbound(inboundSPI: inbound, outboundSPI: outbound, tunnel: tunnel)
                }
            case .followPeerEndpoint(let spis, let remote, let tunnel):
                for spi in spis {
                    attempt("data plane could not follow the peer's new address", tunnel, spi: spi) { () throws(DataplaneError) in
                        try dataplane.updatePeerEndpoint(inboundSPI: spi, peerEndpoint: remote, tunnel: tunnel)
                    }
                }
            case .report(let event, let tunnel):
                switch event {
                case .childSAReady(let sa):
                    // The install action came first (IKESAManager appends it before the report).
                    if let error = refused[tunnel]?[sa.inboundSPI] {
                        onChildSARefused?(tunnel, sa, error)
                        refusedToDelete.append((tunnel, sa.inboundSPI, error.message))
                        continue
                    }
                case .childSADeleted(let inbound, _):
                    refused[tunnel]?[inbound] = nil
                case .ikeSAFailed, .ikeSADeleted:
                    refused[tunnel] = nil
                default:
                    break
                }
                onEvent?(tunnel, event)
            case .initiated(let tunnel, let now):
                onInitiate?(tunnel, now)
            case .log(let record):
                logger.log(level: Self.level(record.level), "\(record.message)",
                           metadata: record.metadata.mapValues { .string($0) })
            }
        }
    }

    /// Runs one data-plane call; logs and returns its error, if any.
    @discardableResult
    private func attempt(_ failure: String, _ tunnel: TunnelID, spi: ESPSPI, _ body: () throws(DataplaneError) -> Void) -> DataplaneError? {
        do {
            try body()
            return nil
        } catch {
            logger.error("\(failure)", metadata: [
                "peer": "\(tunnel)", "spi": "\(SPIText.child(spi))_i", "reason": "\(error.message)",
                "dataplane": "\(dataplane.name)",
            ])
            return error
        }
    }

    static func level(_ level: Logger.Level) -> IKELogRecord.Level {
        switch level {
        case .trace, .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error, .critical: .error
        }
    }

    static func level(_ level: IKELogRecord.Level) -> Logger.Level {
        switch level {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }
}
