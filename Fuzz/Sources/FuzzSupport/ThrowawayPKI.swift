import ViaductCrypto
import CryptoCore
import PKI

/// One root CA and the two gateway certificates the engine targets use, made once per process
/// from fixed keys (below), so what a run found reproduces in another process: a certificate
/// or an AUTH signature the seeds carry (Scripts/fuzz --write-seeds) verifies in every run.
/// Valid around `now`, the sessions' wall clock at instant zero.
public struct ThrowawayPKI: Sendable {
    public static let now: Int64 = 1_749_945_600  // 2025-06-15T00:00:00Z
    static let day: Int64 = 86_400

    let root: Certificate
    let gateways: [String: (Certificate, PrivateKey)]
    /// One authenticator per gateway, made once (each session of a process shares it: it holds
    /// only the certificate, the key and the validator, nothing an exchange changes).
    let authenticators: [String: X509PeerAuthenticator]

    /// Made on first use (a process makes one).
    public static let shared: ThrowawayPKI = {
        do {
            return try ThrowawayPKI()
        } catch {
            fatalError("the throwaway PKI cannot be made: \(error)")
        }
    }()

    /// ECDSA P-256 keys made with `openssl genpkey` for this harness only (trusted nowhere
    /// else): fixed, so the certificates verify the same in every process. ECDSA signatures
    /// still differ between runs (random k), which no exchange's outcome depends on.
    static let keys: [String: String] = [
        "root": """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgp0V6Iwa7c0raJcQn
            pVkatQjkvsICft5htJGSfn8AZ1qhRANCAARok8gmTJzQBZ+x0fXebVexbrK1XKse
            OQ1pyxHDZDusdCwuYNG3taQaivcuZGif5fM0UnRZd6YascbEfRjqsB29
            -----END PRIVATE KEY-----
            """,
        "gw1.example.net": """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGRFG0D0GJG2S/WNJ
            /LBdk/N/v/Ffat9JjljQe9/73nihRANCAATqJr+IvqesAfL3P1wa7g7tQ1kutbR5
            aVQ8tmy2l4RV2dYYyNBxxHPhJaOeTmT15A1MuARJFOHvIRpEzTo/tejp
            -----END PRIVATE KEY-----
            """,
        "gw2.example.net": """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYYx1cIG2J3MGvy2q
            1pZWpFLH7pP1ScN3SsTct6kEENyhRANCAAQykVI+uTCZtKAR/wbyTIOp4rMXziKC
            n4qpaR+iUPBH9gSgbDAnTwfmhTBNJuTLH98Lgpgi4z+1Gm7ERDubNuwJ
            -----END PRIVATE KEY-----
            """,
    ]

    static func key(_ name: String) throws -> PrivateKey {
        guard let pem = keys[name] else { fatalError("no throwaway key for \(name)") }
        return try PrivateKey(bytes: Array((pem + "\n").utf8))
    }

    init() throws {
        let rootKey = try Self.key("root")
        var authority = CertificateTemplate.certificateAuthority(subject: "CN=Viaduct Fuzz Root,O=Viaduct,C=CH",
                                                                 notBefore: Self.now - 10 * Self.day, notAfter: Self.now + 3650 * Self.day)
        authority.serialNumber = [0x01]
        root = try PKI.selfSign(authority, key: rootKey)
        var gateways: [String: (Certificate, PrivateKey)] = [:]
        var authenticators: [String: X509PeerAuthenticator] = [:]
        let validator = CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [root]))
        for (serial, name) in ["gw1.example.net", "gw2.example.net"].enumerated() {
            let key = try Self.key(name)
            var template = CertificateTemplate.gateway(subject: "CN=\(name),O=Viaduct", subjectAltNames: [.dns(name)],
                                                       notBefore: Self.now - Self.day, notAfter: Self.now + 365 * Self.day)
            template.serialNumber = [0x10 + UInt8(serial)]
            let cert = try PKI.issue(template, publicKey: key.publicKey, issuer: root, issuerKey: rootKey)
            gateways[name] = (cert, key)
            authenticators[name] = try X509PeerAuthenticator(certificate: cert, privateKey: key, validator: validator)
        }
        self.gateways = gateways
        self.authenticators = authenticators
    }

    /// The authenticator presenting `name`'s certificate and trusting the root.
    public func authenticator(_ name: String) -> X509PeerAuthenticator {
        guard let authenticator = authenticators[name] else { fatalError("no throwaway certificate for \(name)") }
        return authenticator
    }
}
