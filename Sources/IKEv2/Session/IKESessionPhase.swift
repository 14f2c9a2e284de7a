// RFC 7296 §1.2 (initial exchanges), §2.6 (COOKIE), §1.3 / §2.6 (INVALID_KE_PAYLOAD), §2.15
// (the octets each side signs), RFC 7427 §4 (SIGNATURE_HASH_ALGORITHMS): what one IKE SA holds
// while IKE_SA_INIT and IKE_AUTH are under way; §2.8, §2.18, §2.3, §2.4: what it holds once up.
import CryptoCore
import NetTypes

/// Where the IKE SA stands, each step carrying the data only valid in it (swift-nio-ssh's
/// connection states). The handshake's ephemeral key, cookie, retry counts and the IKE_SA_INIT
/// messages AUTH signs live in the handshake steps, so they are gone as soon as IKE_AUTH ends,
/// whichever way; an exchange that needs them gets them by matching its step, never from
/// optionals that "should be set by now". `IKESession.state` is its public summary.
enum IKESessionPhase {
    /// Created; an initiator waits for `start`, a responder for an IKE_SA_INIT request.
    case idle
    /// Initiator: IKE_SA_INIT request sent (possibly again, with a COOKIE or another KE group).
    case initSent(IKEInitiatorHandshake)
    /// Initiator: an IKE_INTERMEDIATE request of RFC 9370's additional key exchanges sent.
    case intermediateSent(IKEInitiatorIntermediate)
    /// Responder: IKE_SA_INIT answered, keys derived, waiting for IKE_INTERMEDIATE (RFC 9370)
    /// or IKE_AUTH.
    case initAnswered(IKEResponderHandshake)
    /// Initiator: IKE_AUTH request sent.
    case authSent(IKEInitiatorAuthentication)
    /// IKE SA and first Child SA are up.
    case established(IKEEstablishedSA)
    /// We asked the peer to delete the IKE SA and wait for its answer.
    case deleting(IKEEstablishedSA)
    /// Placeholder while an exchange works on the up SA's data (`IKESession.withUp`), taken out
    /// of the phase so that its arrays are not copied; `deleting` says where it goes back.
    case modifying(deleting: Bool)
    /// Deleted cleanly by either side.
    case closed
    case failed(IKEFailure)

    /// The step as the daemon, status and tests see it.
    var state: IKESessionState {
        switch self {
        case .idle: .idle
        case .initSent, .intermediateSent: .initSent
        case .initAnswered: .initAnswered
        case .authSent: .authSent
        case .established: .established
        case .deleting: .deleting
        case .modifying(let deleting): deleting ? .deleting : .established
        case .closed: .closed
        case .failed(let failure): .failed(failure)
        }
    }

    /// The up SA's data in `.established` and `.deleting`; nil in every other phase.
    var up: IKEEstablishedSA? {
        switch self {
        case .established(let up), .deleting(let up): up
        default: nil
        }
    }
}

/// Initiator, from the IKE_SA_INIT request until its response is processed (then IKE_AUTH).
struct IKEInitiatorHandshake {
    /// Our ephemeral key pair for the request's KE payload; replaced by one of the group the
    /// responder names in INVALID_KE_PAYLOAD (§1.3).
    var keyExchange: any KeyExchange
    /// The responder's COOKIE (§2.6), sent first in every request from then on.
    var cookie: [UInt8]?
    var cookieRetries = 0
    var groupRetries = 0
    /// The request exactly as last sent (with COOKIE / retried KE): RealMessage1 of our AUTH
    /// (§2.15).
    var initRequestBytes: [UInt8] = []

    init(keyExchange: any KeyExchange) {
        self.keyExchange = keyExchange
    }
}

/// Responder, from its IKE_SA_INIT response until IKE_AUTH arrives or the half-open timeout.
struct IKEResponderHandshake {
    /// RealMessage1, which the initiator's AUTH signs, and RealMessage2, which ours signs (§2.15).
    var initRequestBytes: [UInt8]
    var initResponseBytes: [UInt8]
    /// The hashes the initiator announced (RFC 7427 §4); nil when it sent none.
    var peerSignatureHashes: [UInt16]?
    /// When the half-open SA is given up if no IKE_AUTH request came (`halfOpenTimeoutSeconds`).
    var halfOpenDeadline: IKEInstant
    /// RFC 9370: the additional key exchanges still to run in IKE_INTERMEDIATE, next first.
    var remainingKeyExchanges: [KeyExchangeGroup] = []
    /// RFC 9242 §3.3.2: the IKE_INTERMEDIATE messages so far, which AUTH covers.
    var authentication = IKEIntermediateAuthentication()
    /// The protection before the last IKE_INTERMEDIATE rekeyed the SA: a retransmission of that
    /// request, sent as fragments, is authenticated with it before the cached answer goes out.
    var previousProtection: IKEMessageProtection?
}

/// Initiator, from the IKE_AUTH request until its response is processed.
struct IKEInitiatorAuthentication {
    /// RealMessage2: the responder's IKE_SA_INIT response, which its AUTH signs (§2.15).
    var initResponseBytes: [UInt8]
    /// The inbound SPI we offered in SAi2 for the first Child SA.
    var childInboundSPI: ESPSPI
    /// RFC 9242 §3.3.2: IntAuth_i | IntAuth_r | MID, which both AUTHs sign (empty without
    /// IKE_INTERMEDIATE).
    var intermediateOctets: [UInt8] = []
}

/// An IKE SA whose IKE_AUTH completed, from then until it is deleted or fails: its Child SAs,
/// the exchanges we start and its timers. Ending the phase ends all of it, so `fail` and the
/// Delete paths report every Child SA in it as deleted.
struct IKEEstablishedSA {
    /// Child SAs (§1.2, §2.8, §2.17): the first one, then its rekeyed successors.
    var children: [IKEChildSA] = []
    /// The inbound SPI of the Child SA the data plane sends on (make-before-break bookkeeping).
    var activeOutbound: ESPSPI?
    /// Exchanges we start (§2.3 window size 1): queued, and the one outstanding.
    var pendingTasks: [IKELocalTask] = []
    var activeTask: IKEActiveTask?
    /// When the peer was last heard from (§2.4 liveness).
    var lastInbound: IKEInstant?
    /// When our IKE SA rekey is due (§2.18).
    var ikeRekeyAt: IKEInstant?
    /// The peer's new IKE SA while a rekey collision is undecided (§2.8.2).
    var candidate: IKESideSA?

    func childIndex(inbound spi: ESPSPI) -> Int? { children.firstIndex { $0.inboundSPI == spi } }

    /// The Child SA carrying outbound traffic (the newest one during a rekey's overlap).
    var outboundChild: ChildSAParameters? {
        children.first { $0.inboundSPI == activeOutbound }?.parameters ?? children.last?.parameters
    }

    /// Queues an exchange unless it is already waiting (§2.3).
    mutating func enqueue(_ task: IKELocalTask) {
        if !pendingTasks.contains(task) { pendingTasks.append(task) }
    }
}
