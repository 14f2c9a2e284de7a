import ESP
import NetTypes

/// What the data plane knows about one Child SA (an inbound and an outbound SA installed together).
/// `ESPStatistics` carries the drop counters by reason (bad ICV, replay, padding, ...); the
/// lifetime states tell the daemon when a byte or packet limit calls for a rekey (soft) or a
/// delete (hard) — time limits are the daemon's own.
public struct UserspaceSACounters: Sendable, Hashable {
    public var peer: String
    public var inboundSPI: ESPSPI
    public var outboundSPI: ESPSPI
    public var inbound: ESPStatistics
    public var outbound: ESPStatistics
    public var inboundLifetime: ESPLifetimeState
    public var outboundLifetime: ESPLifetimeState
    /// True when this SA's outbound half is the one new packets to the peer use.
    public var carriesOutbound: Bool
    /// The last outbound sequence number used.
    public var outboundSequenceNumber: UInt64

    /// The worse of the two lifetime states: what the daemon acts on.
    public var lifetimeState: ESPLifetimeState { max(inboundLifetime, outboundLifetime) }
}
