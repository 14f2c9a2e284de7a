import ViaductCrypto
import CryptoCore
import PKI
import System
import Topology

/// The node's X.509 material: our certificate (and any intermediates in the same PEM file), its
/// private key, the CA certificates we trust and their CRLs. Read at start and again on every
/// reload (`viaduct apply`, SIGHUP, a change of the files on disk); every error names the file
/// and what is wrong with it.
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

    /// The CA certificates we trust, in file order.
    public var trustAnchors: [Certificate] { validator.policy.trustAnchors }
    /// The CRLs we check peers against, in file order.
    public var crls: [CertificateRevocationList] { validator.policy.crls }

    /// Whether `other` is the same material (certificates and CRLs byte for byte; the key is
    /// bound to the certificate, so it cannot change alone).
    public func sameMaterial(as other: NodeCredentials) -> Bool {
        certificate == other.certificate && intermediates == other.intermediates
            && trustAnchors == other.trustAnchors && crls == other.crls
    }

    /// What changed from `old`, one line each, in the words `viaduct apply` prints; empty when
    /// nothing did.
    public func changes(from old: NodeCredentials) -> [String] {
        var lines: [String] = []
        if certificate != old.certificate || intermediates != old.intermediates {
            lines.append("certificate '\(certificate.subject)': serial \(old.certificate.serialHex) -> \(certificate.serialHex), "
                         + "valid until \(PKITime.format(certificate.notAfter))")
        }
        if trustAnchors != old.trustAnchors {
            let before = Set(old.trustAnchors), after = Set(trustAnchors)
            let added = trustAnchors.filter { !before.contains($0) }.map { "+'\($0.subject)'" }
            let removed = old.trustAnchors.filter { !after.contains($0) }.map { "-'\($0.subject)'" }
            lines.append("CA bundle: " + (added + removed).joined(separator: " "))
        }
        if crls != old.crls {
            lines.append("CRLs: " + crls.map { c in
                "'\(c.issuer)' #\(c.crlNumber.map(String.init) ?? "?") next update \(c.nextUpdate.map(PKITime.format) ?? "none")"
            }.joined(separator: ", "))
        }
        return lines
    }

    /// Refuses material a reload must not switch to: our certificate outside its validity at
    /// `now` (epoch seconds), or not chaining to the CA bundle (through the configured CRLs):
    /// peers would refuse it, so the credentials in use are better kept. `load` already refused
    /// unreadable files, an unprotected key and a key that is not the certificate's.
    public func checkUsable(at now: Int64) throws(DaemonError) {
        let leaf = certificate
        if now >= leaf.notAfter {
            throw DaemonError(.credentials, "certificate '\(leaf.subject)' expired at \(PKITime.format(leaf.notAfter))")
        }
        if now < leaf.notBefore {
            throw DaemonError(.credentials, "certificate '\(leaf.subject)' is not valid before \(PKITime.format(leaf.notBefore))")
        }
        do {
            try validator.validate(leaf, intermediates: intermediates, identity: nil, at: now)
        } catch let e as CryptoError {
            throw DaemonError(.credentials, "our own \(e.message) (checked against the CA bundle and CRLs it would be sent to)")
        } catch {
            throw DaemonError(.credentials, "our own certificate '\(leaf.subject)' does not validate: \(error)")
        }
    }

    /// A private key that group or others may read or write is refused, as OpenSSH refuses an
    /// unprotected identity file: on a gateway that is a leaked key waiting to happen, and the
    /// fix is one command. (A file that cannot be stat'ed fails in the read that follows.)
    /// `what` names the secret in the message (a pre-shared key file is held to the same rule).
    public static func checkPrivateKeyMode(_ path: String, mode: UInt32, what: String = "private key") throws(DaemonError) {
        guard mode & 0o077 != 0 else { return }
        throw DaemonError(.credentials, "\(what) \(path) is accessible by group or others (mode 0\(String(mode, radix: 8))); refusing to use it: run 'chmod 600 \(path)'")
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
