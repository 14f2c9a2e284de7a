/// One configured tunnel as `viaduct status` shows it: every tunnel of the plan appears,
/// including those that are down, so an operator sees at once what is missing and why.
/// Times are relative (seconds ago / seconds from now) so the value means the same thing on
/// the daemon's side of the control socket and on the client's, whatever their clocks say.
public struct TunnelStatus: Codable, Hashable, Sendable {
    public enum State: String, Codable, Hashable, Sendable {
        /// No IKE SA, and this end is not trying (a responder waiting for its peer, or a
        /// pause before the next attempt after a failure).
        case down
        /// This end is opening the IKE SA and has no answer yet.
        case connecting
        /// An IKE SA is up; `children` says whether traffic can flow.
        case established
    }

    /// The IKE SA currently up with the peer.
    public struct IKESA: Codable, Hashable, Sendable {
        /// strongSwan's spelling: `0123456789abcdef_i fedcba9876543210_r`.
        public var spis: String
        public var proposal: String
        public var peerIdentity: String
        public var local: String
        public var remote: String
        /// True when IKE moved to port 4500 and ESP travels in UDP: NAT was detected, or
        /// encapsulation is forced (the userspace data plane always is). Not proof of a NAT.
        public var udpEncapsulation: Bool
        public var uptimeSeconds: Int
        /// When the planned lifetime minus the rekey margin runs out.
        public var rekeyInSeconds: Int
    }

    /// One installed Child SA, with the data plane's counters for it.
    public struct ChildSA: Codable, Hashable, Sendable {
        public var spiIn: String
        public var spiOut: String
        public var encryption: String
        public var integrity: String?
        /// ESP in UDP (RFC 3948): NAT between the gateways, or forced.
        public var udpEncapsulation: Bool
        public var uptimeSeconds: Int
        public var rekeyInSeconds: Int
        public var expiresInSeconds: Int
        public var packetsIn: UInt64
        public var bytesIn: UInt64
        public var packetsOut: UInt64
        public var bytesOut: UInt64
    }

    /// The last thing that went wrong with this tunnel, in words an operator can act on.
    public struct Failure: Codable, Hashable, Sendable {
        /// The IKEFailure code (`authentication-failed`, `timeout`, ...), stable for scripts.
        public var code: String
        public var message: String
        /// The RFC 7296 notify exchanged about it (`AUTHENTICATION_FAILED`), if any.
        public var notify: String?
        /// Who reported it: `peer` (its notify) or `local` (we decided).
        public var by: String
        public var secondsAgo: Int
    }

    /// The peer's last new Child SA this end refused (RFC 7296 §1.3.1), e.g. a second one
    /// while the tunnel's Child SA is installed.
    public struct Refusal: Codable, Hashable, Sendable {
        public var reason: String
        /// The error notify answered (`NO_ADDITIONAL_SAS`).
        public var notify: String
        public var secondsAgo: Int
    }

    public var peer: String
    /// The tunnel interface of the plan (`vd-dc2`).
    public var interface: String
    /// `initiator` or `responder` for the first IKE SA.
    public var role: String
    public var localAddress: String
    public var peerAddress: String
    public var state: State
    /// Why the tunnel is not carrying traffic, in plain words; nil when it is.
    public var reason: String?
    public var lastError: Failure?
    /// Absent when the peer never had a new Child SA refused.
    public var refusedChildSA: Refusal?
    /// The certificate or CRL this tunnel depends on that expires first: ours, a CA of the
    /// bundle, a CRL (its nextUpdate), or the peer's as presented at its last authentication.
    public var nearestExpiry: Expiry?
    public var ike: IKESA?
    public var childSAs: [ChildSA]

    public struct Expiry: Codable, Hashable, Sendable {
        /// "our certificate 'CN=dc1.example.net'", "CRL of 'CN=Root' (next update)".
        public var what: String
        /// `own`, `ca`, `peer` or `crl`.
        public var role: String
        /// "2027-01-31 12:00:00 UTC".
        public var at: String
        /// Seconds from now; negative once past.
        public var inSeconds: Int64
    }

    /// The tunnel carries traffic: an IKE SA is established and a Child SA is installed. The
    /// one test behind `status --check`, the `up` counts, `viaduct_tunnel_up` and `graph`.
    public var carriesTraffic: Bool { state == .established && !childSAs.isEmpty }

    /// `child_sas` in JSON (the default snake_case of `childSAs` would be `child_s_as`).
    enum CodingKeys: String, CodingKey {
        case peer, interface, role, localAddress, peerAddress, state, reason, lastError, nearestExpiry, ike
        case refusedChildSA = "refusedChildSa"
        case childSAs = "childSas"
    }
}
