// RFC 8019 §4, RFC 7296 §2.6: the daemon's side of the admission gate.
import Crypto
import IKEv2

/// Puts `IKEAdmissionGate` between an incoming IKE_SA_INIT and the responder session it would
/// create, and holds each admitted session's ticket until that session stops being half-open:
/// established (IKE_AUTH done), failed, deleted, or expired (the engine fails a half-open SA
/// after `halfOpenTimeoutSeconds`, 30 s by default), so the gate's count goes down by itself.
struct ResponderAdmission {
    private(set) var gate: IKEAdmissionGate
    private var tickets: [SessionTable.SessionID: IKEAdmissionTicket] = [:]

    init(gate: IKEAdmissionGate) { self.gate = gate }

    mutating func decide(_ request: IKEDatagram, sessions: Int, now: IKEInstant) -> IKEAdmissionDecision {
        gate.admit(request, sessions: sessions, now: now)
    }

    /// The admitted session that now holds `ticket`.
    mutating func hold(_ ticket: IKEAdmissionTicket, for id: SessionTable.SessionID) { tickets[id] = ticket }

    /// Whether the session is still half-open in the gate's books.
    func holdsTicket(_ id: SessionTable.SessionID) -> Bool { tickets[id] != nil }

    /// A ticket no session came to hold (the session could not be created).
    mutating func release(_ ticket: IKEAdmissionTicket) { gate.release(ticket) }

    /// The session is no longer half-open (any reason); idempotent.
    mutating func finished(_ id: SessionTable.SessionID) {
        if let t = tickets.removeValue(forKey: id) { gate.release(t) }
    }

    var counters: IKEAdmissionCounters { gate.counters }

    /// The gate `viaduct run` uses: cookies are HMAC-SHA-256 with secrets from OpenSSL's RNG.
    /// The session and source bounds grow with the node's peers, so a hub with thousands of
    /// branches is never refused by a bound meant for strangers: each peer may hold a few IKE
    /// SAs at once (an old and a new one during a rekey, one half-open).
    static func productionGate(_ policy: IKEAdmissionPolicy, peers: Int) throws(DaemonError) -> IKEAdmissionGate {
        var policy = policy
        policy.maxSessions = max(policy.maxSessions, 4 * peers + policy.maxHalfOpen)
        policy.sourceTableCapacity = max(policy.sourceTableCapacity, 2 * peers)
        do {
            return IKEAdmissionGate(policy: policy, prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256),
                                    random: OpenSSLRandomSource())
        } catch {
            throw DaemonError(.system, "cannot set up IKE cookies (HMAC-SHA-256): \(error)")
        }
    }
}
