// RFC 8019 §4 (defending against half-open SA exhaustion) and RFC 7296 §2.6 (cookies): the
// numbers a responder's admission gate works with.

/// How much a responder lets unauthenticated peers make it spend before they prove their
/// address (a COOKIE round trip), and the hard bounds after that. Every structure an
/// unauthenticated peer can grow is bounded by one of these numbers.
public struct IKEAdmissionPolicy: Hashable, Sendable {
    /// Half-open IKE SAs (IKE_SA_INIT answered, IKE_AUTH not done) at which every new request
    /// must carry a valid COOKIE. Below it, a request costs a Diffie-Hellman without proof.
    public var cookieThreshold: Int
    /// Half-open IKE SAs from one source (/32, /64) at which that source must carry a COOKIE.
    public var perSourceCookieThreshold: Int
    /// Hard bound on half-open IKE SAs; reached only by sources that proved their address.
    public var maxHalfOpen: Int
    /// Hard bound on half-open IKE SAs per source.
    public var maxHalfOpenPerSource: Int
    /// Hard bound on all IKE SAs the responder keeps (half-open and established).
    public var maxSessions: Int
    /// New half-open SAs a source may open without a cookie; above it, it gets a cookie.
    public var unverifiedRate: IKERate
    /// New half-open SAs a source that returned a valid cookie may open; above it, dropped.
    public var verifiedRate: IKERate
    /// COOKIE answers sent in total: bounds what spoofed requests make us send to their victims.
    public var cookieReplyRate: IKERate
    /// Sources (/32, /64) remembered at once; the least recently used one without half-open
    /// SAs makes room for a new one.
    public var sourceTableCapacity: Int
    /// How long one cookie secret is used before the next one replaces it.
    public var cookieSecretLifetimeSeconds: Double
    /// How long cookies made with the replaced secret are still accepted (an initiator's
    /// round trip plus its retransmission).
    public var cookieGraceSeconds: Double

    public init(cookieThreshold: Int = 32, perSourceCookieThreshold: Int = 4, maxHalfOpen: Int = 256,
                maxHalfOpenPerSource: Int = 16, maxSessions: Int = 1024,
                unverifiedRate: IKERate = IKERate(perSecond: 2, burst: 4),
                verifiedRate: IKERate = IKERate(perSecond: 10, burst: 20),
                cookieReplyRate: IKERate = IKERate(perSecond: 10_000, burst: 10_000),
                sourceTableCapacity: Int = 4096, cookieSecretLifetimeSeconds: Double = 60,
                cookieGraceSeconds: Double = 10) {
        self.cookieThreshold = cookieThreshold
        self.perSourceCookieThreshold = perSourceCookieThreshold
        self.maxHalfOpen = maxHalfOpen
        self.maxHalfOpenPerSource = maxHalfOpenPerSource
        self.maxSessions = maxSessions
        self.unverifiedRate = unverifiedRate
        self.verifiedRate = verifiedRate
        self.cookieReplyRate = cookieReplyRate
        self.sourceTableCapacity = sourceTableCapacity
        self.cookieSecretLifetimeSeconds = cookieSecretLifetimeSeconds
        self.cookieGraceSeconds = cookieGraceSeconds
    }
}

/// A token-bucket rate: `perSecond` tokens refill, at most `burst` saved up.
public struct IKERate: Hashable, Sendable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }
}
