@testable import IKEv2
import NetTypes
import TestSupport

/// An `IKESAManager` driven by a test, keeping what it returned: after every call its actions
/// (`takeActions()`), in order, so tests assert on the data-plane calls, reports and log records
/// the endpoint asked for. Outgoing datagrams stay in the endpoint until `takeOutgoing()`.
final class EndpointProbe {
    let endpoint: IKESAManager
    /// Every action returned so far, in order.
    private(set) var actions: [IKEEndpointAction] = []
    /// Sees each action as it is returned (e.g. to feed a data-plane model).
    var onAction: (IKEEndpointAction) -> Void = { _ in }

    init(factory: any IKESessionFactory, reinitiateDelaySeconds: Double = 30, admission: IKEAdmissionGate? = nil,
         logLevel: IKELogRecord.Level = .debug) {
        endpoint = IKESAManager(factory: factory, logLevel: logLevel, reinitiateDelaySeconds: reinitiateDelaySeconds,
                                admission: admission)
    }

    /// Takes what the last call returned.
    @discardableResult
    func collect() -> [IKEEndpointAction] {
        let new = endpoint.takeActions()
        actions += new
        new.forEach(onAction)
        return new
    }

    // MARK: Feeding

    func add(peer: IKETunnelPeer) { endpoint.add(peer: peer) }
    func start(now: IKEInstant) { endpoint.start(now: now); collect() }
    func receive(_ datagram: IKEDatagram, now: IKEInstant) { endpoint.receive(datagram, now: now); collect() }
    func fireTimers(now: IKEInstant) { endpoint.fireTimers(now: now); collect() }
    func noteReceived(_ kind: IKESAManager.NonIKEDatagram) { endpoint.noteReceived(kind); collect() }
    func perform(_ command: SessionCommand, peer name: String, now: IKEInstant) -> String? {
        defer { collect() }
        return endpoint.perform(command, tunnel: TunnelID(peer: name), now: now)
    }
    func closeAll(now: IKEInstant) -> Int {
        defer { collect() }
        return endpoint.closeAll(now: now)
    }
    func takeOutgoing() -> [IKEDatagram] { endpoint.takeOutgoing() }

    // MARK: Reading

    var counters: IKEEndpointCounters { endpoint.counters }
    var nextDeadline: IKEInstant? { endpoint.nextDeadline }
    var liveSessionCount: Int { endpoint.liveSessionCount }
    var peers: [IKETunnelPeer] { endpoint.peers }
    var deferredOutboundSeconds: Double {
        get { endpoint.deferredOutboundSeconds }
        set { endpoint.deferredOutboundSeconds = newValue }
    }
    var duplicateGraceSeconds: Double {
        get { endpoint.duplicateGraceSeconds }
        set { endpoint.duplicateGraceSeconds = newValue }
    }

    /// Inbound SPIs of the `installChildSA` actions, in order.
    var installed: [ESPSPI] {
        actions.compactMap { if case .installChildSA(let sa, _) = $0 { sa.inboundSPI } else { nil } }
    }
    /// Inbound SPIs of the `deleteChildSA` actions, in order.
    var deleted: [ESPSPI] {
        actions.compactMap { if case .deleteChildSA(let inbound, _, _) = $0 { inbound } else { nil } }
    }
    /// `followPeerEndpoint` actions: (inbound SPI, where to, tunnel), one per Child SA.
    var follows: [(ESPSPI, IKEEndpoint, TunnelID)] {
        actions.flatMap { a -> [(ESPSPI, IKEEndpoint, TunnelID)] in
            if case .followPeerEndpoint(let spis, let remote, let tunnel) = a { spis.map { ($0, remote, tunnel) } } else { [] }
        }
    }
    /// The reported events (`report` actions), in order.
    var events: [IKEEvent] { reports.map(\.0) }
    var reports: [(IKEEvent, TunnelID)] {
        actions.compactMap { if case .report(let e, let t) = $0 { (e, t) } else { nil } }
    }
    /// The log records, in order.
    var logs: [IKELogRecord] { actions.compactMap { if case .log(let r) = $0 { r } else { nil } } }

    /// Whether a log record's message contains `fragment`.
    func logged(_ fragment: String) -> Bool { logs.contains { $0.message.contains(fragment) } }
    /// Whether a log record carries `key` = `value`.
    func logged(_ key: String, _ value: String) -> Bool { logs.contains { $0.metadata[key] == value } }
}

extension EndpointProbe {
    /// An endpoint at gwA with one peer, gw-b (gwB, port 500), whose sessions `factory` makes.
    static func withPeerB(_ factory: any IKESessionFactory, initiator: Bool, reinitiateDelaySeconds: Double = 10,
                          admission: IKEAdmissionGate? = nil, logLevel: IKELogRecord.Level = .debug) -> EndpointProbe {
        let core = EndpointProbe(factory: factory, reinitiateDelaySeconds: reinitiateDelaySeconds, admission: admission,
                                 logLevel: logLevel)
        core.add(peer: IKETunnelPeer(tunnel: TunnelID(peer: "gw-b"), addresses: [gwB], local: IKEEndpoint(address: gwA, port: 500),
                                     remote: IKEEndpoint(address: gwB, port: 500), initiator: initiator))
        return core
    }
}
