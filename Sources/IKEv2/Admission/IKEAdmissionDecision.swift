// RFC 7296 §2.6 and RFC 8019 §4: what a responder does with a new IKE_SA_INIT request.

/// The admission gate's answer for one IKE_SA_INIT request that would open a new IKE SA.
public enum IKEAdmissionDecision: Hashable, Sendable {
    /// Create the responder session; give the ticket back with `release` when the SA stops
    /// being half-open (established, failed, or expired).
    case admit(IKEAdmissionTicket)
    /// Send this stateless answer (`HDR(A,0), N(COOKIE)`) and keep nothing.
    case respond(IKEDatagram)
    /// Send nothing, keep nothing.
    case drop(IKEAdmissionDropReason)
}

/// A half-open slot held by one responder session; counted against its source until released.
public struct IKEAdmissionTicket: Hashable, Sendable {
    public let source: IKEAdmissionSource
}

/// Why a request was dropped; stable names for counters and logs.
public enum IKEAdmissionDropReason: String, CaseIterable, Hashable, Sendable {
    /// Not a decodable IKE_SA_INIT request, or no Ni where a cookie had to be computed.
    case malformed
    /// A source with a valid cookie opened half-open SAs faster than `verifiedRate`.
    case rateLimited = "rate-limited"
    /// `maxHalfOpen` reached.
    case halfOpenLimit = "half-open-limit"
    /// `maxHalfOpenPerSource` reached for this source.
    case sourceHalfOpenLimit = "source-half-open-limit"
    /// `maxSessions` reached.
    case sessionLimit = "session-limit"
    /// The cookie would be sent, but `cookieReplyRate` is used up.
    case cookieRateLimited = "cookie-rate-limited"
    /// Every slot of the source table holds half-open SAs.
    case sourceTableFull = "source-table-full"
    /// The random source or PRF failed while making a cookie.
    case cookieUnavailable = "cookie-unavailable"
}
