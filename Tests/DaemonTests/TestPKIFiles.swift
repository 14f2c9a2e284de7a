import ViaductCrypto
import CryptoCore
import Daemon
import Foundation
import IKEv2
import PKI
import Testing
import Topology
import TopologyFiles
import TestSupport

/// A throwaway PKI written to a fresh directory, for tests that read credential files the way the
/// daemon does: a root CA, gateway certificates issued from it, CRLs, all valid around a fixed
/// "now" (no clock is read). Files are replaced the way operators and tools do it: a new file
/// renamed over the old one.
final class TestPKIFiles {
    static let now: Int64 = 1_780_000_000  // 2026-05-28
    static let day: Int64 = 86_400

    let directory: String
    let caKey: PrivateKey
    let ca: Certificate

    init(caName: String = "Viaduct Test Root") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        (ca, caKey) = try Self.makeCA(caName)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static func makeCA(_ name: String, notAfter: Int64 = now + 3650 * day) throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generate(.ecdsaP256)
        let cert = try PKI.selfSign(.certificateAuthority(subject: "CN=\(name),O=Viaduct", notBefore: now - 10 * day,
                                                          notAfter: notAfter), key: key)
        return (cert, key)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// A gateway certificate for `fqdn` from `issuer` (default: this root), and its key.
    func gateway(_ fqdn: String, notBefore: Int64 = now - day, notAfter: Int64 = now + 365 * day,
                 issuer: (Certificate, PrivateKey)? = nil, key: PrivateKey? = nil) throws -> (Certificate, PrivateKey) {
        let key = try key ?? PrivateKey.generate(.ecdsaP256)
        let (ca, caKey) = issuer ?? (self.ca, self.caKey)
        let cert = try PKI.issue(.gateway(subject: "CN=\(fqdn),O=Viaduct", subjectAltNames: [.dns(fqdn)],
                                          notBefore: notBefore, notAfter: notAfter),
                                 publicKey: key.publicKey, issuer: ca, issuerKey: caKey)
        return (cert, key)
    }

    func crl(nextUpdate: Int64 = now + 7 * day, number: UInt64 = 1) throws -> CertificateRevocationList {
        try PKI.issueCRL(issuer: ca, issuerKey: caKey, revoked: [], crlNumber: number, thisUpdate: Self.now - Self.day, nextUpdate: nextUpdate)
    }

    /// Writes `text` to `name` through a temporary file renamed over it (what `install`, Ansible
    /// and certbot do), with `mode`.
    func replace(_ name: String, with bytes: [UInt8], mode: Int = 0o644) throws {
        let tmp = path(".\(name).tmp")
        try? FileManager.default.removeItem(atPath: tmp)
        #expect(FileManager.default.createFile(atPath: tmp, contents: Data(bytes), attributes: [.posixPermissions: mode]))
        guard rename(tmp, path(name)) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func writeCertificate(_ name: String, _ certs: [Certificate]) throws {
        try replace(name, with: Array(certs.map(\.pem).joined().utf8))
    }

    func writeKey(_ name: String, _ key: PrivateKey, mode: Int = 0o600) throws {
        let tmp = path(".\(name).key-tmp")
        try? FileManager.default.removeItem(atPath: tmp)
        try key.write(toPath: tmp)
        if mode != 0o600 { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: tmp) }
        guard rename(tmp, path(name)) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Writes `hub.pem`/`hub.key` (gateway `hub`), `ca.pem` and, with `crl`, `ca.crl`.
    func writeNode(_ gw: (Certificate, PrivateKey), cas: [Certificate]? = nil, crl: CertificateRevocationList? = nil) throws {
        try writeCertificate("hub.pem", [gw.0])
        try writeKey("hub.key", gw.1)
        try writeCertificate("ca.pem", cas ?? [ca])
        if let crl { try replace("ca.crl", with: crl.derBytes) }
    }

    /// A hub with two spokes whose credential files are this directory's.
    /// With `psk`, one more tunnel to an unmanaged peer `cloud` authenticates with the key in `cloud.psk`.
    func plan(crl: Bool = false, psk: Bool = false) throws -> NodePlan {
        let crls = crl ? ", crls: [\(path("ca.crl"))]" : ""
        let cloud = psk ? "\n  cloud: { address: 192.0.2.20, identity: 192.0.2.20, managed: false, networks: [198.18.20.0/24] }" : ""
        let cloudTunnel = psk
            ? "\n  - between: [hub, cloud]\n    inside: 169.254.20.0/30\n    auth: psk\n    psk-file: \(path("cloud.psk"))" : ""
        let yaml = """
            version: 1
            pki: { ca: \(path("ca.pem"))\(crls) }
            defaults:
              dataplane: userspace
            gateways:
              hub: { address: 192.0.2.1, identity: hub.example.net, certificate: \(path("hub.pem")), key: \(path("hub.key")), networks: [198.18.0.0/24] }
              a: { address: 192.0.2.10, identity: a.example.net, certificate: a.pem, key: a.key, networks: [198.18.10.0/24] }
              b: { address: 192.0.2.11, identity: b.example.net, certificate: b.pem, key: b.key, networks: [198.18.11.0/24] }\(cloud)
            tunnels:
              - hub: hub
                spokes: [a, b]
                inside-pool: 169.254.10.0/24\(cloudTunnel)
            """
        let l = TopologyLoader.load(yaml: yaml, file: path("topology.yaml"))
        let t = try #require(l.topology, "\(l.diagnostics)")
        return try NodePlanner.plan(t, links: l.links, node: "hub", fileExists: { _ in true }).get()
    }
}

/// Scripted sessions (`FakeFactory`) that carry real credentials loaded from files, so
/// `PlanApplier` can tell which credentials new sessions get.
final class CarryingFactory: IKESessionFactory, CredentialCarrying {
    let credentials: NodeCredentials
    let preSharedKeys: PreSharedKeys
    let inner: FakeFactory

    init(_ credentials: NodeCredentials, preSharedKeys: PreSharedKeys = PreSharedKeys(), inner: FakeFactory) {
        self.credentials = credentials
        self.preSharedKeys = preSharedKeys
        self.inner = inner
    }

    func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        try inner.makeSession(for: peer, initiator: initiator)
    }
}
