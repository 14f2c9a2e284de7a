import NetTypes

/// What the endpoint (`IKESAManager`) asks its owner to do, in order. The endpoint decides;
/// the daemon performs: it calls the data plane, writes the log line, tells status, metrics
/// and systemd. Datagrams to send are not actions: they wait in `takeOutgoing()` and go out
/// after the actions of the same call are performed, so a Child SA is installed before the
/// message that completes it leaves (the peer may send ESP at once).
public enum IKEEndpointAction: Sendable {
    /// Install both halves of a negotiated Child SA (inbound before outbound).
    case installChildSA(ChildSAParameters, TunnelID)
    /// Remove a Child SA from the data plane (RFC 7296 §1.4.1).
    case deleteChildSA(inboundSPI: ESPSPI, outboundSPI: ESPSPI, TunnelID)
    /// Make an installed Child SA the one that carries the tunnel's outbound traffic
    /// (make-before-break, RFC 7296 §2.8 and §2.8.3).
    case activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, TunnelID)
    /// RFC 7296 §2.23: the peer's NAT moved it; ESP in UDP of these Child SAs goes there now.
    case followPeerEndpoint(inboundSPIs: [ESPSPI], IKEEndpoint, TunnelID)
    /// An engine event for the tunnel's observers (status, `viaduct events`, metrics, systemd).
    case report(IKEEvent, TunnelID)
    /// This end sent a new IKE_SA_INIT to the tunnel's peer (metrics time the handshake).
    case initiated(TunnelID, IKEInstant)
    /// A line for the operator's log.
    case log(IKELogRecord)
}

/// One log line the endpoint wants written: a level, a fixed message and `key=value` context.
/// The endpoint builds only the records at or above its `logLevel`, so a debug line costs
/// nothing unless someone reads debug.
public struct IKELogRecord: Hashable, Sendable {
    public enum Level: Int, Comparable, Sendable, CaseIterable {
        case debug, info, notice, warning, error

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public var level: Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}
