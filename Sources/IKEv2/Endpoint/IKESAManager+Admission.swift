// RFC 8019 §4, RFC 7296 §2.6: admission of new IKE SAs before a responder session exists. An
// admitted session holds its ticket (in its table entry) until it stops being half-open:
// established (IKE_AUTH done), failed, deleted, or expired (the engine fails a half-open SA after
// `halfOpenTimeoutSeconds`, 30 s by default), so the gate's count goes down by itself.
import NetTypes

extension IKESAManager {
    enum AdmissionStep {
        /// Create the responder session (holding the ticket, if the gate gave one).
        case proceed(IKEAdmissionTicket?)
        /// Answered statelessly or dropped: no session.
        case stop
    }

    /// Asks the gate (when there is one) whether this new IKE_SA_INIT may cost us a session;
    /// queues its COOKIE answer, counts its drop. Sessions count until reaped: a finished one
    /// still holds its memory.
    func admit(_ request: IKEDatagram, peer: String, now: IKEInstant) -> AdmissionStep {
        guard var gate = admission else { return .proceed(nil) }
        let wasDemanding = gate.counters.halfOpen >= gate.policy.cookieThreshold
        let decision = gate.admit(request, sessions: table.sessions.count - table.retiredCount, now: now)
        admission = gate
        counters.admission = gate.counters
        // Admission only ever raises the count: the way down is logged where SAs finish.
        if !wasDemanding && gate.counters.halfOpen >= gate.policy.cookieThreshold {
            log(.notice, "half-open IKE SAs at threshold: new ones need a COOKIE",
                ["half_open": "\(gate.counters.halfOpen)", "threshold": "\(gate.policy.cookieThreshold)"])
        }
        switch decision {
        case .admit(let ticket):
            return .proceed(ticket)
        case .respond(let answer):
            log(.debug, "asked for a COOKIE", ["peer": "\(peer)", "from": "\(request.source)"])
            outbox.append(answer)
            return .stop
        case .drop(let reason):
            log(.debug, "dropped IKE_SA_INIT", ["peer": "\(peer)", "from": "\(request.source)", "reason": "\(reason.rawValue)"])
            return .stop
        }
    }

    /// The gate admitted a request but no session came of it (the factory failed).
    func unusedTicket(_ ticket: IKEAdmissionTicket) {
        guard var gate = admission else { return }
        gate.release(ticket)
        admission = gate
        counters.admission = gate.counters
    }

    /// A half-open responder SA that dies (most often the engine's half-open timeout of a
    /// spoofed IKE_SA_INIT) while another IKE SA of the same peer lives says nothing about that
    /// peer's tunnel: it is logged, but status and `viaduct events` do not hear of it, or a
    /// flood impersonating a peer would show its working tunnel as failed every 30 s.
    func isBystanderHalfOpen(_ id: IKESATable.SessionID, peerIndex: Int) -> Bool {
        guard admission != nil, table.sessions[id]?.admissionTicket != nil else { return false }
        return table.liveSessions(ofPeer: peerIndex) > 1
    }

    /// The session no longer holds a half-open slot (established, failed, deleted or reaped);
    /// idempotent.
    func sessionStoppedBeingHalfOpen(_ id: IKESATable.SessionID) {
        guard let ticket = table.sessions[id]?.admissionTicket else { return }
        table.sessions[id]?.admissionTicket = nil
        release(ticket)
    }

    /// Sessions dropped from the table: a ticket one still held goes back to the gate.
    func forgotten(_ entries: [IKESATable.Entry]) {
        for ticket in entries.compactMap(\.admissionTicket) { release(ticket) }
    }

    private func release(_ ticket: IKEAdmissionTicket) {
        guard var gate = admission else { return }
        let wasDemanding = gate.counters.halfOpen >= gate.policy.cookieThreshold
        gate.release(ticket)
        admission = gate
        counters.admission = gate.counters
        if wasDemanding && gate.counters.halfOpen < gate.policy.cookieThreshold {
            log(.notice, "half-open IKE SAs below threshold: no COOKIE needed",
                ["half_open": "\(gate.counters.halfOpen)", "threshold": "\(gate.policy.cookieThreshold)"])
        }
    }
}
