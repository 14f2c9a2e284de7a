import ViaductCrypto
import CryptoCore
import IKEv2
import PKI

/// A throwaway PKI for engine tests: one root CA and gateway certificates issued from it, all in
/// memory, valid around a fixed "now" that the sessions get through `IKEWallClock`.
struct SimulationPKI {
    static let now: Int64 = 1_749_945_600  // 2025-06-15T00:00:00Z
    static let day: Int64 = 86_400

    let keyType: KeyType
    let rootKey: PrivateKey
    let root: Certificate

    init(keyType: KeyType = .ecdsaP256, name: String = "Viaduct Engine Test Root") throws {
        self.keyType = keyType
        rootKey = try PrivateKey.generate(keyType)
        root = try PKI.selfSign(.certificateAuthority(subject: "CN=\(name),O=Viaduct,C=CH",
                                                      notBefore: Self.now - 10 * Self.day, notAfter: Self.now + 3650 * Self.day),
                                key: rootKey)
    }

    /// A gateway certificate binding `fqdn` (dNSName SAN), valid from `notBefore` to `notAfter`.
    func gateway(_ fqdn: String, notBefore: Int64 = now - day, notAfter: Int64 = now + 365 * day) throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generate(keyType)
        let cert = try PKI.issue(.gateway(subject: "CN=\(fqdn),O=Viaduct", subjectAltNames: [.dns(fqdn)],
                                          notBefore: notBefore, notAfter: notAfter),
                                 publicKey: key.publicKey, issuer: root, issuerKey: rootKey)
        return (cert, key)
    }

    /// An authenticator that presents `gateway` and trusts `trusting` (default: this root).
    func authenticator(_ gateway: (Certificate, PrivateKey), trusting: [Certificate]? = nil) throws -> X509PeerAuthenticator {
        try X509PeerAuthenticator(certificate: gateway.0, privateKey: gateway.1,
                                  validator: CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: trusting ?? [root])))
    }
}
