import ArgumentParser
import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import Topology

/// `viaduct pki init FILE`: everything a topology's gateways need to authenticate, created where
/// the topology says, in one command. Existing files are kept, so it is safe to run again after
/// adding a gateway: only the new gateway's certificate and key are created.
struct PKIInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create every missing CA, gateway certificate, key and CRL a topology names.",
        discussion: """
        Reads the topology (it must be valid) and, for the paths it names:
          - the first 'pki.ca': a new CA when it does not exist; its key is the same path with \
        the extension '.key' (pki/ca.pem -> pki/ca.key) and is needed to issue anything;
          - each managed gateway's 'certificate' and 'key': issued for its identity, with its \
        underlay addresses as IP subjectAltNames, when both are missing;
          - each 'pki.crls' file: an empty CRL signed by the CA, when missing.
        Files that exist are kept and reported. A certificate without its key (or the reverse) \
        is an error: nothing is overwritten.

        This is a convenient CA for labs and small networks. For production, keep the CA key \
        off the gateways: run this on an offline machine and copy each gateway only its own \
        certificate and key, plus the CA certificate and CRLs.

        EXAMPLE
          viaduct pki init Topologies/dci-two-site.yaml
        """)

    @Argument(help: "The topology file (YAML).") var file: String
    @Option(help: "Key type for new keys: ecdsa-p256 (default), ecdsa-p384, ecdsa-p521, rsa2048, rsa3072, rsa4096 or ed25519.")
    var keyType = "ecdsa-p256"
    @Option(help: "Validity of new gateway certificates, in days.") var days = 730

    func run() throws {
        guard let loaded = Output.loadValid(file), let t = loaded.topology else { throw ExitCode(1) }
        guard let caPath = t.caCertificates.first.map(t.resolve) else {
            throw PKICLI.fail("\(file): the topology names no 'pki.ca'")
        }
        let caKeyPath = (caPath as NSString).deletingPathExtension + ".key"
        let fm = FileManager.default
        try PKICLI.run {
            let ca: Certificate, caKey: PrivateKey
            switch (fm.fileExists(atPath: caPath), fm.fileExists(atPath: caKeyPath)) {
            case (true, true):
                (ca, caKey) = try PKICLI.loadCA(cert: caPath, key: caKeyPath)
                print("kept CA '\(ca.subject)': \(caPath)")
            case (false, false):
                let type = try PKICLI.keyType(keyType)
                let now = PKICLI.now
                caKey = try PrivateKey.generate(type)
                let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
                ca = try PKI.selfSign(.certificateAuthority(subject: "CN=Viaduct CA for \(name)", notBefore: now - PKICLI.backdate,
                                                            notAfter: now + PKICLI.days(3650), pathLength: 0), key: caKey)
                try PKICLI.createParent(of: caPath)
                try caKey.write(toPath: caKeyPath, overwrite: false)
                try PKICLI.writeCertificate(ca, to: caPath, force: false)
                print("created CA '\(ca.subject)': \(caPath), key \(caKeyPath) (mode 0600)")
            case (true, false):
                throw CryptoError(.fileIO, "\(caPath) exists but its key \(caKeyPath) does not; cannot issue certificates")
            case (false, true):
                throw CryptoError(.fileIO, "\(caKeyPath) exists but the CA certificate \(caPath) does not; refusing to guess")
            }
            for gw in t.gateways where gw.managed {
                guard let c = gw.certificate.map(t.resolve), let k = gw.key.map(t.resolve) else { continue }
                switch (fm.fileExists(atPath: c), fm.fileExists(atPath: k)) {
                case (true, true):
                    print("kept \(gw.name): \(c)")
                case (false, false):
                    let r = PKICLI.GatewayRequest(identity: gw.identity.description, sans: gw.addresses.map(\.description),
                                                  subject: nil, keyType: keyType, days: days, outCert: c, outKey: k)
                    let (cert, _) = try PKICLI.issueGateway(r, ca: ca, caKey: caKey, force: false)
                    print("issued \(gw.name) (\(cert.subjectAltNames.map(\.description).joined(separator: ", "))): \(c), key \(k)")
                default:
                    throw CryptoError(.fileIO, "gateway '\(gw.name)': one of \(c) and \(k) exists without the other; refusing to overwrite")
                }
            }
            for path in t.crls.map(t.resolve) where !fm.fileExists(atPath: path) {
                try PKICLI.createParent(of: path)
                _ = try PKICRLFile.update(ca: ca, caKey: caKey, path: path, additions: [], days: 30)
                print("created CRL: \(path)")
            }
        }
    }
}
