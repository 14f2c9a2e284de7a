import IKEv2

/// How `viaduct run` wants the daemon to behave beyond what the plan says.
public struct DaemonOptions: Sendable {
    public var ports: IKEPorts
    /// The build (`viaduct --version`), for `status` and the `viaduct_build_info` metric.
    public var version: String = "unknown"
    /// Install per-socket IPsec bypass policies (needs CAP_NET_ADMIN). Off only for tests
    /// without privileges; a production gateway with route-based 0/0 policies needs them.
    public var bypassPolicies: Bool
    /// Pause before an initiator retries after a failed or deleted IKE SA.
    public var reinitiateDelaySeconds: Double
    /// Use UDP encapsulation even without NAT (what strongSwan's kernel-libipsec peers do anyway).
    public var forceUDPEncapsulation: Bool
    /// Where `viaduct status` and `viaduct events` reach the daemon (`ControlMessage`); nil: no socket.
    public var controlSocketPath: String? = nil
    /// `--status-group`: the group whose members may read `status` and `events` on the
    /// read-only socket beside the control socket (`NODE.status.sock`); nil: no such socket.
    public var statusGroup: UInt32? = nil
    /// The topology file, absolute: what SIGHUP (`systemctl reload`) re-reads and applies.
    public var topologyFile: String? = nil
    /// Re-read the credential files when they change on disk (`CredentialFileWatcher`), once
    /// they have been quiet for 2 s; `--no-watch-credentials` turns it off.
    public var watchCredentialFiles: Bool = true
    /// Tests only: `PlanApplier.pauseBetweenPhasesSeconds`.
    public var applyPauseSeconds: Double = 0
    /// Where Prometheus scrapes `/metrics` (`--metrics`); nil: no endpoint.
    public var metricsAddress: MetricsAddress? = nil
    /// RFC 7296 §2.1 timers (`--retransmit-timeout`, `--retransmit-tries`): the first wait and
    /// how many retransmissions before a peer counts as dead (DPD) or an attempt as failed.
    public var retransmitTimeoutSeconds: Double = 4
    public var retransmitTries: Int = 5

    public var retransmission: IKERetransmissionPolicy {
        IKERetransmissionPolicy(timeout: retransmitTimeoutSeconds, tries: retransmitTries)
    }
    /// Limits on what unauthenticated IKE_SA_INIT requests may cost (cookies, half-open and
    /// per-source limits, RFC 8019); nil answers every request from a configured peer.
    public var admission: IKEAdmissionPolicy? = IKEAdmissionPolicy()

    public init(ports: IKEPorts = .standard, bypassPolicies: Bool = true, reinitiateDelaySeconds: Double = 30,
                forceUDPEncapsulation: Bool = false) {
        self.ports = ports
        self.bypassPolicies = bypassPolicies
        self.reinitiateDelaySeconds = reinitiateDelaySeconds
        self.forceUDPEncapsulation = forceUDPEncapsulation
    }
}
