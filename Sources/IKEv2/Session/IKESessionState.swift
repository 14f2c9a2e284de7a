// RFC 7296 §1.2 / §2: where one IKE SA stands in its first two exchanges.

/// The IKE SA's state, as seen by the daemon. One value per step of IKE_SA_INIT + IKE_AUTH,
/// with terminal states carrying why they ended: the public summary of the session's
/// `IKESessionPhase`, which also carries each step's data.
public enum IKESessionState: Hashable, Sendable, CustomStringConvertible {
    /// Created; an initiator waits for `start`, a responder for an IKE_SA_INIT request.
    case idle
    /// Initiator: IKE_SA_INIT request sent (possibly again, with a COOKIE or another KE group).
    case initSent
    /// Responder: IKE_SA_INIT answered, keys derived, waiting for IKE_AUTH.
    case initAnswered
    /// Initiator: IKE_AUTH request sent.
    case authSent
    /// IKE SA and first Child SA are up.
    case established
    /// We asked the peer to delete the IKE SA and wait for its answer.
    case deleting
    /// Deleted cleanly by either side.
    case closed
    case failed(IKEFailure)

    public var isTerminal: Bool {
        switch self {
        case .closed, .failed: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .idle: "idle"
        case .initSent: "IKE_SA_INIT sent"
        case .initAnswered: "IKE_SA_INIT answered"
        case .authSent: "IKE_AUTH sent"
        case .established: "established"
        case .deleting: "deleting"
        case .closed: "closed"
        case .failed(let f): "failed (\(f))"
        }
    }
}
