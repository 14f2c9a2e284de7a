import ArgumentParser
import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import System
import Topology

/// `viaduct pki`: a small CA for the gateways of one topology. Everything is delegated to the
/// `Crypto` library's `PKI`; this file only parses options, reads the clock and prints.
struct PKICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "Create a CA, issue gateway certificates, revoke them, and inspect PKI files.",
        discussion: """
        Viaduct gateways authenticate IKEv2 with X.509 certificates (RFC 7427 digital \
        signatures). These commands run a minimal CA suitable for a mesh of gateways:

          viaduct pki ca --subject "CN=Example CA,O=Example" \\
              --out-cert ca.pem --out-key ca.key
          viaduct pki issue --ca-cert ca.pem --ca-key ca.key \\
              --identity gw1.example.net --san 192.0.2.1 \\
              --out-cert gw1.pem --out-key gw1.key
          viaduct pki revoke --ca-cert ca.pem --ca-key ca.key \\
              --crl ca.crl --cert gw1.pem
          viaduct pki show gw1.pem

        Keys are written as unencrypted PKCS#8 PEM, created with mode 0600; existing files are \
        never overwritten unless --force is given. Distinguished names are written RFC 4514 \
        style, most specific first ("CN=gw1,O=Example,C=CH"). Certificates interoperate with \
        strongSwan ('pki --verify') and OpenSSL ('openssl verify').
        """,
        subcommands: [PKIInitCommand.self, PKICACommand.self, PKIIssueCommand.self, PKIRevokeCommand.self, PKICRLCommand.self,
                      PKIBundleCommand.self, PKIShowCommand.self, PKIPSKCommand.self])
}

/// Shared CLI plumbing: error reporting and the (only) clock read.
enum PKICLI {
    /// Runs `body`; a `CryptoError` (or any other error) becomes `viaduct: error: <message>` on
    /// stderr and exit status 1 — never a stack trace.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as CryptoError {
            throw fail(e.message)
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail("\(error)")
        }
    }

    /// Prints the message and returns the exit code to throw.
    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("viaduct: error: \(message)\n".utf8))
        return ExitCode(1)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
    /// Backdating absorbs clock skew between the CA host and the gateways.
    static let backdate: Int64 = 300

    static func keyType(_ s: String) throws -> KeyType {
        guard let t = KeyType(rawValue: s.lowercased()) else {
            throw CryptoError(.invalidArgument, "unknown key type '\(s)'; use one of: \(KeyType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return t
    }

    static func days(_ d: Int) throws -> Int64 {
        guard (1...36500).contains(d) else { throw CryptoError(.invalidArgument, "--days must be between 1 and 36500") }
        return Int64(d) * 86_400
    }

    static func loadCA(cert: String, key: String) throws -> (Certificate, PrivateKey) {
        guard let ca = try Certificate.load(path: cert).first else { throw CryptoError(.malformed, "\(cert): no certificate") }
        guard ca.isCA else { throw CryptoError(.invalidArgument, "\(cert): '\(ca.subject)' is not a CA certificate") }
        let k = try PrivateKey.load(path: key)
        guard k.matches(ca.publicKey) else { throw CryptoError(.keyMismatch, "\(key) is not the private key of CA '\(ca.subject)'") }
        return (ca, k)
    }

    /// Refuses to start when an output exists (without --force), so a failure can never leave
    /// a new key next to an old certificate.
    static func checkOutputs(_ paths: [String], force: Bool) throws {
        guard !force else { return }
        for p in paths where FileManager.default.fileExists(atPath: p) {
            throw CryptoError(.fileIO, "\(p): already exists (use --force to replace)")
        }
    }

    static func writeCertificate(_ c: Certificate, to path: String, force: Bool) throws {
        if !force && FileManager.default.fileExists(atPath: path) {
            throw CryptoError(.fileIO, "\(path): already exists (use --force to replace)")
        }
        try PKIFiles.writePublic(path: path, bytes: Array(c.pem.utf8))
    }

    /// Parses "01:ab:cd" / "01abcd" / "0x01abcd" serials.
    static func serial(_ s: String) throws -> [UInt8] {
        var hex = s.lowercased().replacingOccurrences(of: ":", with: "")
        if hex.hasPrefix("0x") { hex.removeFirst(2) }
        if hex.count % 2 == 1 { hex = "0" + hex }
        let chars = Array(hex)
        guard !chars.isEmpty, chars.count <= 40, chars.allSatisfy(\.isHexDigit) else {
            throw CryptoError(.invalidArgument, "'\(s)' is not a hexadecimal serial number")
        }
        return stride(from: 0, to: chars.count, by: 2).compactMap { UInt8(String(chars[$0...$0 + 1]), radix: 16) }
    }
}

struct PKICACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Create a CA certificate (self-signed, or an intermediate) and its private key.",
        discussion: """
        The CA gets basicConstraints CA:TRUE (critical), keyUsage keyCertSign and cRLSign \
        (critical), and subject/authority key identifiers. Its serial number is 16 random bytes.

        With --issuer-cert and --issuer-key it is an intermediate CA signed by that CA. Gateways \
        whose certificates it issues send it after their own: append it to the gateway's \
        certificate file (leaf first), and keep only the root in the topology's pki.ca.
        """)

    @Option(help: "Where to write the CA certificate (PEM).") var outCert: String
    @Option(help: "Where to write the CA private key (PKCS#8 PEM, mode 0600).") var outKey: String
    @Option(help: "Subject DN, e.g. \"CN=Example VPN CA,O=Example,C=CH\".") var subject: String
    @Option(help: "ecdsa-p256 (default), ecdsa-p384, ecdsa-p521, rsa2048, rsa3072, rsa4096 or ed25519.") var keyType = "ecdsa-p256"
    @Option(help: "Validity in days.") var days = 3650
    @Option(help: "Constrain the CA to issue only end-entity certificates when 0 (basicConstraints pathlen).") var pathLength: Int?
    @Option(help: "Sign with this CA certificate (an intermediate CA) instead of self-signing.") var issuerCert: String?
    @Option(help: "The private key of --issuer-cert.") var issuerKey: String?
    @Flag(help: "Overwrite existing output files.") var force = false

    func run() throws {
        try PKICLI.run {
            let type = try PKICLI.keyType(keyType)
            try PKICLI.checkOutputs([outCert, outKey], force: force)
            let now = PKICLI.now
            let key = try PrivateKey.generate(type)
            let template = try CertificateTemplate.certificateAuthority(subject: subject, notBefore: now - PKICLI.backdate,
                                                                    notAfter: now + PKICLI.days(days), pathLength: pathLength)
            let cert: Certificate
            switch (issuerCert, issuerKey) {
            case (nil, nil):
                cert = try PKI.selfSign(template, key: key)
            case (let c?, let k?):
                let (issuer, signer) = try PKICLI.loadCA(cert: c, key: k)
                cert = try PKI.issue(template, publicKey: key.publicKey, issuer: issuer, issuerKey: signer)
            default:
                throw CryptoError(.malformed, "--issuer-cert and --issuer-key go together")
            }
            try key.write(toPath: outKey, overwrite: force)
            try PKICLI.writeCertificate(cert, to: outCert, force: force)
            print("created CA '\(cert.subject)' (\(type), serial \(cert.serialHex))")
            print("  certificate: \(outCert)")
            print("  private key: \(outKey) (mode 0600)")
        }
    }
}

struct PKIIssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a gateway (end-entity) certificate and key, signed by a CA.",
        discussion: """
        The --identity is the IKE identity the gateway will use: an FQDN, an IP address, an \
        email address, or a distinguished name. FQDN / IP / email identities become both a \
        subjectAltName (what RFC 4945 peers match) and the subject CN; a DN identity becomes \
        the subject. Extra --san values (DNS names, IP addresses, emails; "DNS:", "IP:", \
        "email:" prefixes optional) are added as subjectAltNames.

        With --topology FILE --gateway NAME, the identity comes from the topology, the \
        gateway's underlay addresses are added as IP subjectAltNames, and the certificate and \
        key are written where the topology says (unless --out-cert/--out-key are given).

        The certificate has basicConstraints CA:FALSE, keyUsage digitalSignature (critical) and \
        extendedKeyUsage serverAuth, clientAuth and ipsecIKE, which strongSwan, Windows and \
        Apple IKEv2 implementations accept.

        EXAMPLES
          viaduct pki issue --ca-cert ca.pem --ca-key ca.key --identity gw1.example.net \\
              --out-cert gw1.pem --out-key gw1.key
          viaduct pki issue --ca-cert pki/ca.pem --ca-key pki/ca.key \\
              --topology site.yaml --gateway dc1
        """)

    @Option(help: "CA certificate (PEM or DER).") var caCert: String
    @Option(help: "CA private key.") var caKey: String
    @Option(help: "IKE identity: FQDN, IP address, email address or DN (or use --topology).") var identity: String?
    @Option(help: "Take the identity, addresses and output paths from this topology file.") var topology: String?
    @Option(help: "The gateway of --topology to issue for.") var gateway: String?
    @Option(help: "Additional subjectAltName (repeatable).") var san: [String] = []
    @Option(help: "Subject DN (default: CN=<identity>).") var subject: String?
    @Option(help: "ecdsa-p256 (default), ecdsa-p384, ecdsa-p521, rsa2048, rsa3072, rsa4096 or ed25519.") var keyType = "ecdsa-p256"
    @Option(help: "Validity in days.") var days = 730
    @Option(help: "Where to write the certificate (PEM).") var outCert: String?
    @Option(help: "Where to write the private key (PKCS#8 PEM, mode 0600).") var outKey: String?
    @Flag(help: "Overwrite existing output files.") var force = false

    func run() throws {
        var request = PKICLI.GatewayRequest(identity: identity ?? "", sans: san, subject: subject,
                                            keyType: keyType, days: days, outCert: outCert ?? "", outKey: outKey ?? "")
        switch (topology, gateway) {
        case (let file?, let name?):
            guard identity == nil else { throw PKICLI.fail("--identity and --topology exclude each other") }
            guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
            guard let gw = t.gateway(named: name), gw.managed, let cert = gw.certificate, let key = gw.key else {
                throw PKICLI.fail("\(file): no managed gateway named '\(name)'")
            }
            request.identity = gw.identity.description
            request.sans += gw.addresses.map(\.description)
            request.outCert = outCert ?? t.resolve(cert)
            request.outKey = outKey ?? t.resolve(key)
        case (nil, nil):
            guard identity != nil, outCert != nil, outKey != nil else {
                throw PKICLI.fail("give --identity, --out-cert and --out-key, or --topology and --gateway")
            }
        default:
            throw PKICLI.fail("--topology and --gateway go together")
        }
        try PKICLI.run {
            let (ca, caKey) = try PKICLI.loadCA(cert: self.caCert, key: self.caKey)
            let (cert, type) = try PKICLI.issueGateway(request, ca: ca, caKey: caKey, force: force)
            print("issued '\(cert.subject)' (\(type), serial \(cert.serialHex)) by '\(ca.subject)'")
            print("  subjectAltNames: \(cert.subjectAltNames.map(\.description).joined(separator: ", "))")
            print("  valid until: \(PKIShowCommand.time(cert.notAfter))")
            print("  certificate: \(request.outCert)")
            print("  private key: \(request.outKey) (mode 0600)")
        }
    }
}

extension PKICLI {
    struct GatewayRequest {
        var identity: String
        var sans: [String]
        var subject: String?
        var keyType: String
        var days: Int
        var outCert: String
        var outKey: String
    }

    /// Issues one gateway certificate and key and writes them; checks the result validates
    /// against its CA for its identity before anything is written.
    static func issueGateway(_ r: GatewayRequest, ca: Certificate, caKey: PrivateKey,
                             force: Bool) throws -> (Certificate, KeyType) {
        let type = try keyType(r.keyType)
        try checkOutputs([r.outCert, r.outKey], force: force)
        let id = try CertificateIdentity(parsing: r.identity)
        var sans: [SubjectAltName] = []
        var subjectDN = r.subject
        switch id {
        case .fqdn(let n): sans.append(.dns(n))
        case .ipAddress(let b): sans.append(.ipAddress(b))
        case .rfc822(let m): sans.append(.email(m))
        case .distinguishedName: subjectDN = subjectDN ?? r.identity
        }
        if subjectDN == nil { subjectDN = "CN=" + r.identity.replacingOccurrences(of: ",", with: "\\,") }
        for s in r.sans {
            let parsed = try SubjectAltName(parsing: s)
            if !sans.contains(parsed) { sans.append(parsed) }
        }
        let now = PKICLI.now
        let notAfter = min(now + (try days(r.days)), ca.notAfter)
        let key = try PrivateKey.generate(type)
        let cert = try PKI.issue(.gateway(subject: subjectDN ?? r.identity, subjectAltNames: sans,
                                          notBefore: now - PKICLI.backdate, notAfter: notAfter),
                                 publicKey: key.publicKey, issuer: ca, issuerKey: caKey)
        try CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [ca]))
            .validate(cert, identity: id, at: now)
        try createParent(of: r.outKey)
        try createParent(of: r.outCert)
        try key.write(toPath: r.outKey, overwrite: force)
        try writeCertificate(cert, to: r.outCert, force: force)
        return (cert, type)
    }

    static func createParent(of path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CryptoError(.fileIO, "\(dir): cannot create the directory: \(error.localizedDescription)")
        }
    }
}

/// Reads the existing CRL at `path` (if any), checks it belongs to the CA, and re-issues it
/// with `additions`, the next cRLNumber and a fresh validity window.
enum PKICRLFile {
    static func update(ca: Certificate, caKey: PrivateKey, path: String, additions: [CertificateRevocationList.Entry],
                       days: Int) throws -> CertificateRevocationList {
        var entries: [CertificateRevocationList.Entry] = []
        var number: UInt64 = 1
        if FileManager.default.fileExists(atPath: path) {
            let old = try CertificateRevocationList.load(path: path)
            guard old.isSigned(by: ca) else {
                throw CryptoError(.crlInvalid, "\(path) is not a CRL signed by '\(ca.subject)'")
            }
            entries = old.revoked
            number = (old.crlNumber ?? 0) &+ 1
        }
        for a in additions where !entries.contains(where: { $0.serialNumber == a.serialNumber }) {
            entries.append(a)
        }
        let now = PKICLI.now
        let crl = try PKI.issueCRL(issuer: ca, issuerKey: caKey, revoked: entries, crlNumber: number,
                                   thisUpdate: now - PKICLI.backdate, nextUpdate: now + (try PKICLI.days(days)))
        try PKIFiles.writePublic(path: path, bytes: Array(crl.pem.utf8))
        return crl
    }
}

struct PKIRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Add certificates to the CA's CRL (created if missing).",
        discussion: """
        Give the certificates to revoke with --cert FILE or --serial HEX (repeatable). The CRL \
        is re-signed with the next cRLNumber and a nextUpdate --days from now; distribute it to \
        every gateway before then. Gateways configured with CRLs reject any chain whose CAs \
        lack a current CRL.
        """)

    @Option(help: "CA certificate.") var caCert: String
    @Option(help: "CA private key.") var caKey: String
    @Option(help: "CRL file to update (PEM); created when missing.") var crl: String
    @Option(help: "Certificate to revoke (repeatable).") var cert: [String] = []
    @Option(help: "Serial number to revoke, hex, colons allowed (repeatable).") var serial: [String] = []
    @Option(help: "Days until the CRL's nextUpdate.") var days = 30

    func run() throws {
        try PKICLI.run {
            guard !cert.isEmpty || !serial.isEmpty else {
                throw CryptoError(.invalidArgument, "nothing to revoke: give --cert FILE or --serial HEX")
            }
            let (ca, key) = try PKICLI.loadCA(cert: caCert, key: caKey)
            let now = PKICLI.now
            var additions: [CertificateRevocationList.Entry] = []
            for path in cert {
                guard let c = try Certificate.load(path: path).first else { throw CryptoError(.malformed, "\(path): no certificate") }
                guard c.issuer.der == ca.subject.der else {
                    throw CryptoError(.invalidArgument, "\(path): '\(c.subject)' was issued by '\(c.issuer)', not by this CA")
                }
                additions.append(.init(serialNumber: c.serialNumber, revocationDate: now))
            }
            for s in serial { additions.append(.init(serialNumber: try PKICLI.serial(s), revocationDate: now)) }
            let out = try PKICRLFile.update(ca: ca, caKey: key, path: crl, additions: additions, days: days)
            print("CRL \(crl): \(out.revoked.count) revoked, cRLNumber \(out.crlNumber.map(String.init) ?? "?"), next update \(PKIShowCommand.time(out.nextUpdate ?? 0))")
        }
    }
}

struct PKICRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl",
        abstract: "Issue or refresh the CA's CRL without revoking anything new.",
        discussion: "Run this periodically (before nextUpdate) so gateways keep a valid CRL.")

    @Option(help: "CA certificate.") var caCert: String
    @Option(help: "CA private key.") var caKey: String
    @Option(help: "CRL file to write (PEM); existing entries are kept.") var crl: String
    @Option(help: "Days until the CRL's nextUpdate.") var days = 30

    func run() throws {
        try PKICLI.run {
            let (ca, key) = try PKICLI.loadCA(cert: caCert, key: caKey)
            let out = try PKICRLFile.update(ca: ca, caKey: key, path: crl, additions: [], days: days)
            print("CRL \(crl): \(out.revoked.count) revoked, cRLNumber \(out.crlNumber.map(String.init) ?? "?"), next update \(PKIShowCommand.time(out.nextUpdate ?? 0))")
        }
    }
}

/// `viaduct pki bundle`: the CA bundle a gateway trusts (`pki.ca`), for a CA rollover: old and
/// new CA while gateways are reissued, then the new one alone (docs/pki.md, "CA rollover").
struct PKIBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write a CA bundle (the file pki.ca names) from CA certificates, for a CA rollover.",
        discussion: """
        Reads each CA certificate file (PEM, one or more certificates, or DER), refuses one that \
        is not a CA or is already expired, drops duplicates, and writes them, in order, to --out \
        (PEM, mode 0644, replaced in one rename so a watching daemon never reads half a file). \
        A running 'viaduct run' picks the new bundle up by itself.

          viaduct pki bundle --out /etc/viaduct/pki/ca.pem old-ca.pem new-ca.pem   # overlap
          viaduct pki bundle --out /etc/viaduct/pki/ca.pem new-ca.pem               # retire the old CA
        """)

    @Option(help: "The bundle to write (PEM).") var out: String
    @Argument(help: "CA certificate files, in the order to write them.") var cas: [String]

    func run() throws {
        try PKICLI.run {
            guard !cas.isEmpty else { throw CryptoError(.invalidArgument, "name at least one CA certificate file") }
            var bundle: [Certificate] = []
            for path in cas {
                let certs = try Certificate.load(path: path)
                guard !certs.isEmpty else { throw CryptoError(.malformed, "\(path): no certificate") }
                for c in certs {
                    guard c.isCA else { throw CryptoError(.invalidArgument, "\(path): '\(c.subject)' is not a CA certificate") }
                    guard c.notAfter > PKICLI.now else {
                        throw CryptoError(.invalidArgument, "\(path): CA '\(c.subject)' expired at \(PKIShowCommand.time(c.notAfter))")
                    }
                    if !bundle.contains(c) { bundle.append(c) }
                }
            }
            // Written beside the target and renamed over it: readers see the old or the new file.
            let temporary = out + ".viaduct-tmp"
            try PKIFiles.writePublic(path: temporary, bytes: Array(bundle.map(\.pem).joined().utf8))
            if case .failure(let e) = Syscall.rename(temporary, over: out) {
                try? FileManager.default.removeItem(atPath: temporary)
                throw CryptoError(.fileIO, "\(out): cannot replace: \(e.text)")
            }
            for c in bundle {
                print("\(c.subject)  serial \(c.serialHex)  until \(PKIShowCommand.time(c.notAfter))")
            }
            print("wrote \(out): \(bundle.count) CA certificate\(bundle.count == 1 ? "" : "s")")
        }
    }
}

struct PKIShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a certificate, certificate bundle or CRL in human-readable form.",
        discussion: """
        Shows subject, issuer, serial, validity, subjectAltNames, key type, key usage and the \
        SHA-1 of the SubjectPublicKeyInfo — the value IKEv2 CERTREQ payloads carry to name a \
        trusted CA (RFC 7296 §3.7).
        """)

    @Argument(help: "Certificate (PEM bundle or DER) or CRL file.") var file: String

    static func time(_ t: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined(separator: ":") }

    func run() throws {
        try PKICLI.run {
            let bytes = try PKIFiles.read(file)
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains("-----BEGIN X509 CRL-----") || ((try? Certificate(bytes: bytes)) == nil && (try? CertificateRevocationList(bytes: bytes)) != nil) {
                let crl = try CertificateRevocationList(bytes: bytes)
                print("CRL")
                print("  issuer:       \(crl.issuer)")
                print("  this update:  \(Self.time(crl.thisUpdate))")
                print("  next update:  \(crl.nextUpdate.map(Self.time) ?? "(none)")")
                print("  CRL number:   \(crl.crlNumber.map(String.init) ?? "(none)")")
                print("  revoked:      \(crl.revoked.count)")
                for e in crl.revoked { print("    \(Self.hex(e.serialNumber))  since \(Self.time(e.revocationDate))") }
                return
            }
            let certs: [Certificate]
            do {
                certs = try Certificate.load(path: file)
            } catch where !Self.looksLikeCertificate(bytes) {
                // OpenSSL's error stack says nothing useful about a file of the wrong kind.
                throw PKICLI.fail("\(file): not a PEM or DER certificate, bundle or CRL")
            }
            let now = PKICLI.now
            for (i, c) in certs.enumerated() {
                if i > 0 { print("") }
                let state = now > c.notAfter ? " (EXPIRED)" : now < c.notBefore ? " (NOT YET VALID)" : ""
                print("certificate\(certs.count > 1 ? " \(i + 1)/\(certs.count)" : "")")
                print("  subject:      \(c.subject)")
                print("  issuer:       \(c.issuer)\(c.isSelfSigned ? " (self-signed)" : "")")
                print("  serial:       \(c.serialHex)")
                print("  valid from:   \(Self.time(c.notBefore))")
                print("  valid until:  \(Self.time(c.notAfter))\(state)")
                print("  CA:           \(c.isCA ? "yes" : "no")")
                print("  key:          \(c.publicKey.algorithm)")
                if !c.subjectAltNames.isEmpty {
                    print("  altNames:     \(c.subjectAltNames.map(\.description).joined(separator: ", "))")
                }
                print("  key usage:    \(c.keyUsage.map { $0.description } ?? "(any)")")
                if let eku = c.extendedKeyUsage {
                    print("  ext. usage:   \(eku.map(Self.ekuName).joined(separator: ", "))")
                }
                print("  SPKI SHA-1:   \(Self.hex(c.spkiSHA1))")
                print("  SHA-256:      \(Self.hex(c.fingerprintSHA256))")
            }
        }
    }

    /// A PEM certificate, or DER that starts like one (SEQUENCE of a SEQUENCE): anything else is
    /// the wrong kind of file, not a damaged certificate whose parse error is worth showing.
    static func looksLikeCertificate(_ bytes: [UInt8]) -> Bool {
        if String(decoding: bytes, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") { return true }
        guard bytes.count > 4, bytes[0] == 0x30 else { return false }
        let inner = 2 + (bytes[1] & 0x80 == 0 ? 0 : Int(bytes[1] & 0x7f))
        return inner < bytes.count && bytes[inner] == 0x30
    }

    static func ekuName(_ oid: String) -> String {
        switch oid {
        case ExtendedKeyUsage.serverAuth: "serverAuth"
        case ExtendedKeyUsage.clientAuth: "clientAuth"
        case ExtendedKeyUsage.ipsecIKE: "ipsecIKE"
        case ExtendedKeyUsage.any: "anyExtendedKeyUsage"
        default: oid
        }
    }
}

/// RFC 7296 §2.15: a pre-shared key file for `auth: psk` tunnels: 32 random bytes from
/// OpenSSL's CSPRNG, base64 (44 characters: as strongSwan's `secret =` or a cloud console takes
/// it), created with mode 0600.
struct PKIPSKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psk",
        abstract: "Write a new random pre-shared key (for 'auth: psk' tunnels) to a file, mode 0600.",
        discussion: "Give the same file content to the peer (strongSwan: secrets { ike-NAME { secret = \"...\" } }).")

    @Argument(help: "The key file to create.") var file: String
    @Flag(help: "Replace the file if it exists.") var force = false

    func run() throws {
        try PKICLI.run {
            var random = OpenSSLRandomSource()
            var key = try random.bytes(32)
            defer { PKIFiles.cleanse(&key) }
            var text = Array((Data(key).base64EncodedString() + "\n").utf8)
            defer { PKIFiles.cleanse(&text) }
            try text.withUnsafeBytes { try PKIFiles.writeSecret(path: file, bytes: $0, overwrite: force) }
            print("pre-shared key written to \(file) (mode 0600, \(text.count - 1) characters); give the peer the same key")
        }
    }
}
