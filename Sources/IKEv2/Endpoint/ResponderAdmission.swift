// RFC 8019 §4, RFC 7296 §2.6: the endpoint's side of the admission gate.

/// Puts `IKEAdmissionGate` between an incoming IKE_SA_INIT and the responder session it would
/// create, and holds each admitted session's ticket until that session stops being half-open:
/// established (IKE_AUTH done), failed, deleted, or expired (the engine fails a half-open SA
/// after `halfOpenTimeoutSeconds`, 30 s by default), so the gate's count goes down by itself.
struct ResponderAdmission {
    private(set) var gate: IKEAdmissionGate
    private var tickets: [IKESATable.SessionID: IKEAdmissionTicket] = [:]

    init(gate: IKEAdmissionGate) { self.gate = gate }

    mutating func decide(_ request: IKEDatagram, sessions: Int, now: IKEInstant) -> IKEAdmissionDecision {
        gate.admit(request, sessions: sessions, now: now)
    }

    /// The admitted session that now holds `ticket`.
    mutating func hold(_ ticket: IKEAdmissionTicket, for id: IKESATable.SessionID) { tickets[id] = ticket }

    /// Whether the session is still half-open in the gate's books.
    func holdsTicket(_ id: IKESATable.SessionID) -> Bool { tickets[id] != nil }

    /// A ticket no session came to hold (the session could not be created).
    mutating func release(_ ticket: IKEAdmissionTicket) { gate.release(ticket) }

    /// The session is no longer half-open (any reason); idempotent.
    mutating func finished(_ id: IKESATable.SessionID) {
        if let t = tickets.removeValue(forKey: id) { gate.release(t) }
    }

    var counters: IKEAdmissionCounters { gate.counters }
}
