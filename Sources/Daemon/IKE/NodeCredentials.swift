import Crypto
import CryptoCore
import PKI
import System
import Topology

/// The node's X.509 material, read once at start: our certificate (and any intermediates in
/// the same PEM file), its private key, the CA certificates we trust and their CRLs. Every
/// error names the file and what is wrong with it.
public struct NodeCredentials {
    public var certificate: Certificate
    public var intermediates: [Certificate]
    public var privateKey: PrivateKey
    public var validator: CertificateValidator

    public init(certificate: Certificate, intermediates: [Certificate], privateKey: PrivateKey,
                validator: CertificateValidator) {
        self.certificate = certificate
        self.intermediates = intermediates
        self.privateKey = privateKey
        self.validator = validator
    }

    public static func load(plan: NodePlan) throws(DaemonError) -> NodeCredentials {
        let chain = try read(plan.certificate, "certificate") { try Certificate.load(path: $0) }
        guard let leaf = chain.first else {
            throw DaemonError(.credentials, "\(plan.certificate): no certificate in the file")
        }
        if case .success(let m) = Syscall.fileModeAndOwner(plan.key) { try checkPrivateKeyMode(plan.key, mode: m.mode) }
        let key = try read(plan.key, "private key") { try PrivateKey.load(path: $0) }
        guard key.matches(leaf.publicKey) else {
            throw DaemonError(.credentials, "\(plan.key) is not the private key of certificate '\(leaf.subject)' (\(plan.certificate))")
        }
        var anchors: [Certificate] = []
        for path in plan.caCertificates {
            let cas = try read(path, "CA certificate") { try Certificate.load(path: $0) }
            guard !cas.isEmpty else { throw DaemonError(.credentials, "\(path): no CA certificate in the file") }
            anchors += cas
        }
        guard !anchors.isEmpty else {
            throw DaemonError(.credentials, "no CA certificate configured (pki.ca in the topology): peers could not be authenticated")
        }
        var crls: [CertificateRevocationList] = []
        for path in plan.crls {
            crls.append(try read(path, "CRL") { try CertificateRevocationList.load(path: $0) })
        }
        let validator = CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: anchors, crls: crls))
        return NodeCredentials(certificate: leaf, intermediates: Array(chain.dropFirst()), privateKey: key,
                               validator: validator)
    }

    /// A private key that group or others may read or write is refused, as OpenSSH refuses an
    /// unprotected identity file: on a gateway that is a leaked key waiting to happen, and the
    /// fix is one command. (A file that cannot be stat'ed fails in the read that follows.)
    static func checkPrivateKeyMode(_ path: String, mode: UInt32) throws(DaemonError) {
        guard mode & 0o077 != 0 else { return }
        throw DaemonError(.credentials, "private key \(path) is accessible by group or others (mode 0\(String(mode, radix: 8))); refusing to use it: run 'chmod 600 \(path)'")
    }

    private static func read<T>(_ path: String, _ what: String, _ body: (String) throws -> T) throws(DaemonError) -> T {
        do {
            return try body(path)
        } catch let e as CryptoError {
            throw DaemonError(.credentials, "cannot load \(what) \(path): \(e.message)")
        } catch {
            throw DaemonError(.credentials, "cannot load \(what) \(path): \(error)")
        }
    }
}
