// RFC 8019 §4, RFC 7296 §2.6: the cookie secret and bounds of the gate a running daemon uses.
import ViaductCrypto
import IKEv2

extension IKEAdmissionGate {
    /// The gate `viaduct run` uses: cookies are HMAC-SHA-256 with secrets from OpenSSL's RNG.
    /// The session and source bounds grow with the node's peers, so a hub with thousands of
    /// branches is never refused by a bound meant for strangers: each peer may hold a few IKE
    /// SAs at once (an old and a new one during a rekey, one half-open).
    static func production(_ policy: IKEAdmissionPolicy, peers: Int) throws(DaemonError) -> IKEAdmissionGate {
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
