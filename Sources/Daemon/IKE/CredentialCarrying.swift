import IKEv2

/// A session factory that authenticates new IKE SAs with a set of node credentials. The daemon
/// swaps the factory (`EndpointDriver.factory`) to take new credentials: sessions made after
/// the swap use them, established IKE SAs keep the ones they authenticated with. `PlanApplier`
/// compares the credentials of the factory in use with a new one's to tell a credential-only
/// change from no change at all.
public protocol CredentialCarrying: AnyObject {
    var credentials: NodeCredentials { get }
    /// Where the sessions report the certificates peers present (nil: not observed).
    var peerCertificates: PeerCertificateBook? { get }
    /// The pre-shared keys of the node's `auth: psk` tunnels (RFC 7296 §2.15): replacing a key
    /// file is a credential change like replacing a certificate.
    var preSharedKeys: PreSharedKeys { get }
}

extension CredentialCarrying {
    public var peerCertificates: PeerCertificateBook? { nil }
    public var preSharedKeys: PreSharedKeys { PreSharedKeys() }
}
