import IKEv2

/// The admission gate's figures in `viaduct status` (RFC 8019 protection): what new IKE SA
/// requests from configured peers cost, and whether the responder is demanding cookies.
public struct AdmissionStatus: Codable, Hashable, Sendable {
    public var halfOpen: Int
    public var halfOpenPeak: Int
    public var admitted: UInt64
    public var cookiesSent: UInt64
    public var cookiesAccepted: UInt64
    public var cookiesRejected: UInt64
    /// Requests dropped, by reason (`IKEAdmissionDropReason` names); reasons never seen are absent.
    public var dropped: [String: UInt64]
    public var sources: Int
    public var sourceEvictions: UInt64

    public init(_ c: IKEAdmissionCounters) {
        halfOpen = c.halfOpen
        halfOpenPeak = c.halfOpenPeak
        admitted = c.admitted
        cookiesSent = c.cookiesSent
        cookiesAccepted = c.cookiesAccepted
        cookiesRejected = c.cookiesRejected
        dropped = Dictionary(uniqueKeysWithValues: c.dropped.map { ($0.key.rawValue, $0.value) })
        sources = c.sources
        sourceEvictions = c.sourceEvictions
    }

    public var droppedTotal: UInt64 { dropped.values.reduce(0, +) }
}
