import Crypto
import CryptoCore
import PKI

/// One root CA and the two gateway certificates the engine targets use, made once per process
/// (keys from OpenSSL, so they differ between runs; what the fuzzer controls does not depend on
/// them). Valid around `now`, the sessions' wall clock at instant zero.
public struct ThrowawayPKI: Sendable {
    public static let now: Int64 = 1_749_945_600  // 2025-06-15T00:00:00Z
    static let day: Int64 = 86_400

    let root: Certificate
    let gateways: [String: (Certificate, PrivateKey)]

    /// Made on first use (a process makes one).
    public static let shared: ThrowawayPKI = {
        do {
            return try ThrowawayPKI(names: ["gw1.example.net", "gw2.example.net"])
        } catch {
            fatalError("the throwaway PKI cannot be made: \(error)")
        }
    }()

    init(names: [String]) throws {
        let rootKey = try PrivateKey.generate(.ecdsaP256)
        root = try PKI.selfSign(.certificateAuthority(subject: "CN=Viaduct Fuzz Root,O=Viaduct,C=CH",
                                                      notBefore: Self.now - 10 * Self.day, notAfter: Self.now + 3650 * Self.day),
                                key: rootKey)
        var gateways: [String: (Certificate, PrivateKey)] = [:]
        for name in names {
            let key = try PrivateKey.generate(.ecdsaP256)
            let cert = try PKI.issue(.gateway(subject: "CN=\(name),O=Viaduct", subjectAltNames: [.dns(name)],
                                              notBefore: Self.now - Self.day, notAfter: Self.now + 365 * Self.day),
                                     publicKey: key.publicKey, issuer: root, issuerKey: rootKey)
            gateways[name] = (cert, key)
        }
        self.gateways = gateways
    }

    /// An authenticator presenting `name`'s certificate and trusting the root.
    public func authenticator(_ name: String) -> X509PeerAuthenticator {
        guard let (cert, key) = gateways[name] else { fatalError("no throwaway certificate for \(name)") }
        do {
            return try X509PeerAuthenticator(certificate: cert, privateKey: key,
                                             validator: CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [root])))
        } catch {
            fatalError("the throwaway authenticator cannot be made: \(error)")
        }
    }
}
