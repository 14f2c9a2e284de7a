/// What `viaduct status` prints: the daemon, its counters, and every configured tunnel in plan
/// order. The JSON form (`viaduct status --json`, and the control socket's `status` reply) is
/// this value with snake_case keys; fields are only ever added.
import IKEv2
public struct NodeStatus: Codable, Hashable, Sendable {
    public var formatVersion = 1
    /// The daemon's build (`viaduct --version`; absent from older daemons).
    public var version: String?
    public var node: String
    public var dataplane: String
    public var uptimeSeconds: Int
    public var tunnels: [TunnelStatus]
    public var datagramsReceived: UInt64
    public var datagramsSent: UInt64
    /// Datagrams dropped before reaching a session (unknown peer or SPI, malformed, refused by
    /// the admission gate; a COOKIE answer is not a drop).
    public var datagramsDropped: UInt64
    /// New IKE SA requests: admitted, asked for a cookie, dropped (absent from older daemons).
    public var admission: AdmissionStatus?

    public init(node: String, dataplane: String, uptimeSeconds: Int, tunnels: [TunnelStatus], counters: IKEEndpointCounters,
                version: String? = nil) {
        self.version = version
        self.node = node
        self.dataplane = dataplane
        self.uptimeSeconds = uptimeSeconds
        self.tunnels = tunnels
        datagramsReceived = counters.datagramsReceived
        datagramsSent = counters.datagramsSent
        datagramsDropped = counters.unknownPeer + counters.unknownSPI + counters.malformed + counters.admission.droppedTotal
        admission = AdmissionStatus(counters.admission)
    }
}
