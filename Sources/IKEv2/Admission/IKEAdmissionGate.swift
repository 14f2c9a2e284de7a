// RFC 8019 §4 (half-open limits, cookies above a threshold, per-source limits after the
// address is proven) and RFC 7296 §2.6 (cookies):
//
//   Initiator                          Responder (gate: cookie required)
//   HDR(A,0), SAi1, KEi, Ni  -->
//                            <--  HDR(A,0), N(COOKIE)          (nothing kept)
//   HDR(A,0), N(COOKIE), SAi1, KEi, Ni  -->
//                            <--  HDR(A,B), SAr1, KEr, Nr, [CERTREQ]   (admitted: half-open)
import CryptoCore
import NetTypes

/// Decides, before any session or Diffie-Hellman exists, whether a new IKE_SA_INIT request
/// may open a half-open IKE SA. Pure: fed the datagram and the time, with the PRF and the
/// random source injected; the caller owns the sessions and hands each admitted one's ticket
/// back when it is no longer half-open.
///
/// A request without a valid cookie is admitted only while the responder is quiet (half-open
/// SAs below `cookieThreshold` globally and `perSourceCookieThreshold` for its source) and its
/// source is within `unverifiedRate`; otherwise it gets a cookie, which costs one HMAC and keeps
/// nothing. A spoofed source never sees the cookie, so under a flood only peers that can
/// receive at their address get in, and their rate limit (`verifiedRate`) is a bucket no
/// spoofer can drain.
public struct IKEAdmissionGate {
    public let policy: IKEAdmissionPolicy
    public private(set) var counters = IKEAdmissionCounters()
    private var jar: IKECookieJar
    private var table: IKESourceTable
    private var cookieReplies: IKETokenBucket?

    public init(policy: IKEAdmissionPolicy, prf: any PseudoRandomFunction, random: any RandomSource) {
        self.policy = policy
        jar = IKECookieJar(prf: prf, random: random, lifetimeSeconds: policy.cookieSecretLifetimeSeconds,
                           graceSeconds: policy.cookieGraceSeconds)
        table = IKESourceTable(capacity: policy.sourceTableCapacity)
    }

    /// Half-open IKE SAs admitted and not yet released.
    public var halfOpen: Int { counters.halfOpen }

    /// Half-open IKE SAs of one address's source.
    public func halfOpen(from address: [UInt8]) -> Int {
        guard let s = IKEAdmissionSource(address: address), let i = table.slot(of: s) else { return 0 }
        return table[i].halfOpen
    }

    /// One IKE_SA_INIT request (responder SPI zero) that no session knows yet.
    /// - Parameter sessions: IKE SAs the caller holds now, half-open and established.
    public mutating func admit(_ request: IKEDatagram, sessions: Int, now: IKEInstant) -> IKEAdmissionDecision {
        guard let source = IKEAdmissionSource(address: request.source.address),
              let message = try? IKEMessage(decoding: request.bytes),
              message.header.exchangeType == .ikeSAInit, !message.header.flags.contains(.response),
              message.header.responderSPI.isZero else {
            return drop(.malformed)
        }
        let spi = message.header.initiatorSPI.rawValue
        let nonce = message.payloads.lazy.compactMap { if case .nonce(let n) = $0 { n.data } else { nil } }.first
        var verified = false
        if let cookie = message.notifies.first(where: { $0.type == .cookie })?.data {
            if let nonce, jar.verify(cookie, nonce: nonce, address: request.source.address, spi: spi, now: now) == .valid {
                verified = true
                counters.cookiesAccepted += 1
            } else {
                counters.cookiesRejected += 1
            }
        }
        guard sessions < policy.maxSessions else { return drop(.sessionLimit) }
        guard let slot = table.slot(for: source, policy: policy, now: now) else { return drop(.sourceTableFull) }
        syncTableCounters()
        var entry = table[slot]
        defer { table[slot] = entry }
        if verified {
            guard counters.halfOpen < policy.maxHalfOpen else { return drop(.halfOpenLimit) }
            guard entry.halfOpen < policy.maxHalfOpenPerSource else { return drop(.sourceHalfOpenLimit) }
            guard entry.verified.take(rate: policy.verifiedRate, now: now) else { return drop(.rateLimited) }
        } else {
            let busy = counters.halfOpen >= policy.cookieThreshold || entry.halfOpen >= policy.perSourceCookieThreshold
                || counters.halfOpen >= policy.maxHalfOpen || entry.halfOpen >= policy.maxHalfOpenPerSource
            if busy || !entry.unverified.take(rate: policy.unverifiedRate, now: now) {
                guard let nonce else { return drop(.malformed) }
                return cookieAnswer(to: request, spi: spi, nonce: nonce, now: now)
            }
        }
        entry.halfOpen += 1
        counters.halfOpen += 1
        counters.halfOpenPeak = max(counters.halfOpenPeak, counters.halfOpen)
        counters.admitted += 1
        return .admit(IKEAdmissionTicket(source: source))
    }

    /// The session holding `ticket` is no longer half-open.
    public mutating func release(_ ticket: IKEAdmissionTicket) {
        guard let slot = table.slot(of: ticket.source), table[slot].halfOpen > 0 else { return }
        table[slot].halfOpen -= 1
        counters.halfOpen = max(0, counters.halfOpen - 1)
    }

    // §2.6: "HDR(A,0), N(COOKIE)", unprotected, responder SPI zero; the request is not kept.
    private mutating func cookieAnswer(to request: IKEDatagram, spi: UInt64, nonce: [UInt8], now: IKEInstant) -> IKEAdmissionDecision {
        var bucket = cookieReplies ?? IKETokenBucket(rate: policy.cookieReplyRate, now: now)
        defer { cookieReplies = bucket }
        guard bucket.take(rate: policy.cookieReplyRate, now: now) else { return drop(.cookieRateLimited) }
        let header = IKEHeader(initiatorSPI: IKESPI(spi), responderSPI: .zero, exchangeType: .ikeSAInit,
                               flags: [.response], messageID: 0)
        guard let cookie = try? jar.cookie(nonce: nonce, address: request.source.address, spi: spi, now: now),
              let bytes = try? IKEMessage(header: header, payloads: [.notify(IKENotify(type: .cookie, data: cookie))]).encoded() else {
            return drop(.cookieUnavailable)
        }
        counters.cookiesSent += 1
        return .respond(IKEDatagram(bytes: bytes, source: request.destination, destination: request.source))
    }

    private mutating func drop(_ reason: IKEAdmissionDropReason) -> IKEAdmissionDecision {
        counters.dropped[reason, default: 0] += 1
        return .drop(reason)
    }

    private mutating func syncTableCounters() {
        counters.sources = table.count
        counters.sourceEvictions = table.evictions
    }
}
