
/// What the daemon dropped or passed on, and why: for status, metrics and tests. Every
/// datagram that does not reach a session is counted under exactly one reason.
public struct IKEEndpointCounters: Hashable, Sendable {
    public var datagramsReceived: UInt64 = 0
    public var datagramsSent: UInt64 = 0
    public var sendErrors: UInt64 = 0
    public var receiveErrors: UInt64 = 0
    /// ESP-in-UDP on the NAT-T port: the data plane's, not IKE's (no userspace ESP yet).
    public var espOnNATTPort: UInt64 = 0
    public var natKeepalives: UInt64 = 0
    /// NAT-keepalives we sent (RFC 3948 §4: only while we are behind a NAT).
    public var natKeepalivesSent: UInt64 = 0
    /// Shorter than an IKE header, or not IKEv2.
    public var malformed: UInt64 = 0
    /// From an address that is no configured peer's.
    public var unknownPeer: UInt64 = 0
    /// From a configured peer, but for an IKE SA no session knows, and not a new IKE_SA_INIT.
    public var unknownSPI: UInt64 = 0
    /// New IKE_SA_INIT requests from configured peers: admitted, answered with a COOKIE, or
    /// dropped by the admission gate (RFC 8019); zero when the gate is off.
    public var admission = IKEAdmissionCounters()

    public init() {}
}
