// RFC 7296 §2.3 (window size 1): exchanges we start wait their turn.
import NetTypes

/// An exchange the engine wants to initiate. With a window of one, a second one waits in
/// `pendingTasks` until the outstanding request is answered, as strongSwan queues tasks.
enum IKELocalTask: Equatable {
    /// §2.8: CREATE_CHILD_SA with N(REKEY_SA) for the Child SA with this inbound SPI.
    case rekeyChild(ESPSPI)
    /// §1.4.1: INFORMATIONAL Delete of these Child SAs (inbound SPIs).
    case deleteChildren([ESPSPI])
    /// §2.4: an empty INFORMATIONAL (liveness check).
    case liveness
    /// §1.4.1: Delete of the IKE SA.
    case deleteIKE
    /// §1.3.2, §2.18: CREATE_CHILD_SA rekeying the IKE SA.
    case rekeyIKE
}

/// What our outstanding request is for, with the state its answer needs.
enum IKEActiveTask {
    case rekeyChild(IKEChildRekeyContext)
    case deleteChildren([ESPSPI])
    case liveness
    case deleteIKE
    case rekeyIKE(IKESARekeyContext)
}
