// RFC 7296 §2 (exchanges), §2.1 (retransmission), §2.23 (NAT traversal): what one IKE SA with
// one peer is allowed to negotiate.
import CryptoCore

/// Which side of the IKE SA we are. Fixed at creation, as strongSwan fixes a task's role.
public enum IKERole: String, Hashable, Sendable {
    case initiator, responder
}

/// Maps the engine's monotonic `IKEInstant` onto wall-clock epoch seconds for certificate
/// validity checks, without the engine ever reading a clock: the daemon records the epoch time
/// of instant zero (and may update it when the wall clock steps).
public struct IKEWallClock: Hashable, Sendable {
    public var epochSecondsAtInstantZero: Int64

    public init(epochSecondsAtInstantZero: Int64) { self.epochSecondsAtInstantZero = epochSecondsAtInstantZero }

    public func epochSeconds(at instant: IKEInstant) -> Int64 {
        epochSecondsAtInstantZero + Int64(instant.nanoseconds / 1_000_000_000)
    }
}

/// RFC 7296 §2.1 retransmission timers: timeout * base^n for the n-th retransmission, given up
/// after `tries` retransmissions. The defaults are strongSwan's (charon.retransmit_*), whose
/// total wait is about 165 s. `jitter` (0...1) shortens each timeout by a random fraction up to
/// that share, so thousands of tunnels started together do not retransmit in lockstep.
public struct IKERetransmissionPolicy: Hashable, Sendable {
    public var timeout: Double
    public var base: Double
    public var tries: Int
    public var jitter: Double
    /// Upper bound on one interval (strongSwan's retransmit_limit; 0 = none).
    public var limit: Double

    public init(timeout: Double = 4, base: Double = 1.8, tries: Int = 5, jitter: Double = 0.1, limit: Double = 0) {
        self.timeout = timeout
        self.base = base
        self.tries = tries
        self.jitter = jitter
        self.limit = limit
    }

    public static let strongSwanDefaults = IKERetransmissionPolicy(jitter: 0)

    /// The interval before retransmission number `attempt + 1` (attempt 0 = the first send),
    /// before jitter.
    public func interval(afterAttempt attempt: Int) -> Double {
        var t = timeout
        for _ in 0..<max(0, attempt) { t *= base }
        return limit > 0 ? min(t, limit) : t
    }

    /// §2.1: that interval shortened by up to `jitter` of itself, with injected randomness.
    func interval(afterAttempt attempt: Int, jitter random: inout any RandomSource) -> Double {
        let base = interval(afterAttempt: attempt)
        guard jitter > 0, let r = try? random.bytes(2) else { return base }
        let fraction = Double(UInt16(r[0]) << 8 | UInt16(r[1])) / 65535
        return base * (1 - min(1, jitter) * fraction)
    }
}

/// What to do when the peer stops answering (RFC 7296 §2.4), reported with `IKEEvent.deadPeer`;
/// the daemon acts on it (the topology's `dpd.action`).
public enum IKEDPDAction: String, Hashable, Sendable {
    /// Tear down and initiate again at once.
    case restart
    /// Tear down and wait for the peer.
    case clear
    /// Keep interface and routes, retry in the background.
    case hold
}

/// Everything one IKE SA with one peer may negotiate. The engine never reads files or clocks:
/// identities, proposals and timers arrive here, keys through the `PeerAuthenticator`.
public struct IKEPeerConfiguration: Sendable {
    public var role: IKERole
    /// Our address and IKE port (500 normally; 4500 after NAT detection, RFC 7296 §2.23).
    public var local: IKEEndpoint
    /// The peer's address and port. For a responder, the source of the first IKE_SA_INIT.
    public var peer: IKEEndpoint
    public var localIdentity: IKEIdentity
    /// The identity the peer must authenticate as; nil accepts any identity its certificate binds.
    public var peerIdentity: IKEIdentity?
    /// IKE proposals in preference order; a responder picks the first of its own that the peer offers.
    public var ikeProposals: [IKEAlgorithmSet]
    /// ESP proposals for the Child SA, in preference order.
    public var espProposals: [ESPAlgorithmSet]
    /// What we propose / accept as our side (TSi for an initiator) and the peer's side. Route-based:
    /// everything (0.0.0.0/0 and ::/0); the peer may narrow (RFC 7296 §2.9).
    public var localTrafficSelectors: [IKETrafficSelector]
    public var remoteTrafficSelectors: [IKETrafficSelector]
    /// Lifetimes handed to the data plane (seconds).
    public var ikeLifetimeSeconds: Double
    public var childLifetimeSeconds: Double
    public var retransmission: IKERetransmissionPolicy
    /// A responder gives up an IKE SA whose IKE_AUTH never arrives after this long (strongSwan's
    /// half-open timeout).
    public var halfOpenTimeoutSeconds: Double
    /// Use UDP encapsulation (RFC 3948) even without NAT: we fake our NAT_DETECTION_SOURCE_IP so
    /// that the peer does the same (strongSwan `encap = yes`).
    public var forceUDPEncapsulation: Bool
    public var wallClock: IKEWallClock
    /// Send INITIAL_CONTACT in IKE_AUTH (the peer drops stale SAs with us, RFC 7296 §2.4).
    public var sendInitialContact: Bool
    /// Rekey a Child SA at `childLifetimeSeconds - margin - random(0...jitter)` (RFC 7296 §2.8),
    /// so the hard lifetime is never reached while the peer answers and thousands of tunnels
    /// never rekey in the same second (strongSwan's rekey_time / rand_time).
    public var childRekeyMarginSeconds: Double
    public var childRekeyJitterSeconds: Double
    /// The same for the IKE SA (§2.18).
    public var ikeRekeyMarginSeconds: Double
    public var ikeRekeyJitterSeconds: Double
    /// Send an empty INFORMATIONAL after this long without anything from the peer (§2.4); 0 = off.
    public var dpdIntervalSeconds: Double
    public var dpdAction: IKEDPDAction
    /// RFC 3948 §4: while we are behind a NAT, a one-octet 0xFF keepalive to the peer's NAT-T
    /// port this often keeps the mapping open (strongSwan's `keep_alive`, 20 s); 0 = off.
    public var natKeepaliveSeconds: Double
    /// RFC 7383 fragmentation of large encrypted messages (IKE_AUTH with certificate chains).
    public var fragmentation: IKEFragmentationPolicy
    /// RFC 7296 §2.8.3: at the IKE SA's rekey time, emit `reauthenticationDue` (once) instead
    /// of starting a CREATE_CHILD_SA rekey; the daemon then builds a new IKE SA from scratch
    /// and deletes this one once the new Child SA carries the traffic.
    public var reauthenticate: Bool
    /// RFC 7296 §2.15: authenticate both ways with this pre-shared key (AUTH method 2, Shared
    /// Key Message Integrity Code) instead of the `PeerAuthenticator`'s certificates: no CERT or
    /// CERTREQ is sent, and the peer must present `peerIdentity` and a MIC over the same key.
    /// Nil (the default): certificates.
    public var preSharedKey: SecureBytes?

    public init(role: IKERole, local: IKEEndpoint, peer: IKEEndpoint, localIdentity: IKEIdentity,
                peerIdentity: IKEIdentity?, ikeProposals: [IKEAlgorithmSet], espProposals: [ESPAlgorithmSet],
                localTrafficSelectors: [IKETrafficSelector] = [.anyIPv4, .anyIPv6],
                remoteTrafficSelectors: [IKETrafficSelector] = [.anyIPv4, .anyIPv6],
                ikeLifetimeSeconds: Double = 14_400, childLifetimeSeconds: Double = 3_600,
                retransmission: IKERetransmissionPolicy = IKERetransmissionPolicy(),
                halfOpenTimeoutSeconds: Double = 30, forceUDPEncapsulation: Bool = false,
                wallClock: IKEWallClock, sendInitialContact: Bool = true,
                childRekeyMarginSeconds: Double = 300, childRekeyJitterSeconds: Double = 180,
                ikeRekeyMarginSeconds: Double = 1_800, ikeRekeyJitterSeconds: Double = 900,
                dpdIntervalSeconds: Double = 0, dpdAction: IKEDPDAction = .restart,
                natKeepaliveSeconds: Double = 20, fragmentation: IKEFragmentationPolicy = IKEFragmentationPolicy(),
                reauthenticate: Bool = false) {
        self.role = role
        self.local = local
        self.peer = peer
        self.localIdentity = localIdentity
        self.peerIdentity = peerIdentity
        self.ikeProposals = ikeProposals
        self.espProposals = espProposals
        self.localTrafficSelectors = localTrafficSelectors
        self.remoteTrafficSelectors = remoteTrafficSelectors
        self.ikeLifetimeSeconds = ikeLifetimeSeconds
        self.childLifetimeSeconds = childLifetimeSeconds
        self.retransmission = retransmission
        self.halfOpenTimeoutSeconds = halfOpenTimeoutSeconds
        self.forceUDPEncapsulation = forceUDPEncapsulation
        self.wallClock = wallClock
        self.sendInitialContact = sendInitialContact
        self.childRekeyMarginSeconds = childRekeyMarginSeconds
        self.childRekeyJitterSeconds = childRekeyJitterSeconds
        self.ikeRekeyMarginSeconds = ikeRekeyMarginSeconds
        self.ikeRekeyJitterSeconds = ikeRekeyJitterSeconds
        self.dpdIntervalSeconds = dpdIntervalSeconds
        self.dpdAction = dpdAction
        self.natKeepaliveSeconds = natKeepaliveSeconds
        self.fragmentation = fragmentation
        self.reauthenticate = reauthenticate
    }
}
