/// One transition of a tunnel, as `viaduct events` streams it: the IKE engine's events,
/// reduced to what an operator needs (no keys, ever). `at` is wall-clock Unix seconds so
/// events can be matched with other logs.
public struct TunnelEvent: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
        case ikeUp = "ike-up"
        case ikeFailed = "ike-failed"
        case ikeDeleted = "ike-deleted"
        /// The IKE SA was replaced by a new one (new SPIs, same Child SAs).
        case ikeRekeyed = "ike-rekeyed"
        /// RFC 7296 §2.8.3: the IKE SA's time is up and a new one is being built next to it.
        case ikeReauthenticating = "ike-reauthenticating"
        /// The old IKE SA is gone and the new one (a reauthentication, by either side) carries
        /// the tunnel.
        case ikeReauthenticated = "ike-reauthenticated"
        case childUp = "child-up"
        case childDown = "child-down"
        /// The engine negotiated a Child SA the data plane refused to install: it carries nothing.
        case childRefused = "child-refused"
        /// Outbound traffic moved to a new Child SA (a rekey's make-before-break switch).
        case childSwitched = "child-switched"
        /// The peer stopped answering liveness checks.
        case peerDead = "peer-dead"
        /// The peer announced a restart (INITIAL_CONTACT).
        case peerRestarted = "peer-restarted"
        /// The peer's NAT mapping changed; IKE and ESP follow it (RFC 7296 §2.23).
        case peerMoved = "peer-moved"
        /// The peer asked for a new Child SA (RFC 7296 §1.3.1) and this end refused it.
        case peerChildRefused = "peer-child-refused"
        /// New credential files were taken for new IKE SAs (peer `*`: the whole node).
        case credentialsReloaded = "credentials-reloaded"
        /// New credential files were refused; the ones in use stay (peer `*`).
        case credentialsRefused = "credentials-refused"
        /// A certificate or CRL expires within 30, 7 or 1 days, or has expired (peer `*`
        /// unless it is the peer's certificate).
        case certificateExpiring = "certificate-expiring"
    }

    /// Bumped on an incompatible change (docs/status-json.md); absent from daemons before it.
    public var formatVersion: Int? = 1
    public var at: Int64

    public var peer: String
    public var kind: Kind
    /// SPIs as strongSwan prints them, when the event concerns one SA.
    public var spis: String?
    /// One line: the proposal and identity when up, the reason when failed.
    public var detail: String
}

extension TunnelEvent.Kind {
    /// A few words (at most 57 characters, one help line) for `viaduct events --help`, which
    /// lists every kind from here.
    public var summary: String {
        switch self {
        case .ikeUp: "an IKE SA is established"
        case .ikeFailed: "an IKE SA failed or could not be built (reason in words)"
        case .ikeDeleted: "an IKE SA was deleted, by either side"
        case .ikeRekeyed: "the IKE SA was replaced (new SPIs, same Child SAs)"
        case .ikeReauthenticating: "a new IKE SA is being built beside the old one"
        case .ikeReauthenticated: "the new IKE SA carries the tunnel; the old one is gone"
        case .childUp: "a Child SA is installed"
        case .childDown: "a Child SA was removed"
        case .childRefused: "the data plane refused a Child SA (reason in words)"
        case .childSwitched: "outbound traffic moved to a new Child SA (rekey)"
        case .peerDead: "the peer stopped answering liveness checks (DPD)"
        case .peerRestarted: "the peer announced a restart (INITIAL_CONTACT)"
        case .peerMoved: "the peer's address changed; IKE and ESP follow it"
        case .peerChildRefused: "the peer's new Child SA was refused (reason given)"
        case .credentialsReloaded: "new credential files taken for new IKE SAs (peer *)"
        case .credentialsRefused: "new credential files refused; the old ones stay"
        case .certificateExpiring: "a certificate or CRL expires in 30/7/1 days, or did"
        }
    }
}
