import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import Testing

/// A throwaway PKI in its own temp dir: root CA -> intermediate CA -> gateway. Every test builds
/// its own so tests can run in parallel and never share state.
struct TestPKI {
    /// A fixed "now" (2025-06-15T00:00:00Z) for injected-time tests.
    static let now: Int64 = 1_749_945_600
    static let day: Int64 = 86_400

    let dir: URL
    let rootKey: PrivateKey
    let root: Certificate
    let intermediateKey: PrivateKey
    let intermediate: Certificate
    let gatewayKey: PrivateKey
    let gateway: Certificate
    let now: Int64

    init(keyType: KeyType = .ecdsaP256, now: Int64 = TestPKI.now,
         gatewaySANs: [SubjectAltName] = [.dns("gw1.example.net"), .ipAddress([192, 0, 2, 1]), .email("ops@example.net")]) throws {
        self.now = now
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        rootKey = try PrivateKey.generate(keyType)
        root = try PKI.selfSign(.certificateAuthority(subject: "CN=Viaduct Test Root,O=Viaduct,C=CH",
                                                      notBefore: now - 10 * Self.day, notAfter: now + 3650 * Self.day),
                                key: rootKey)
        intermediateKey = try PrivateKey.generate(keyType)
        intermediate = try PKI.issue(.certificateAuthority(subject: "CN=Viaduct Test Intermediate,O=Viaduct,C=CH",
                                                           notBefore: now - 5 * Self.day, notAfter: now + 1825 * Self.day, pathLength: 0),
                                     publicKey: intermediateKey.publicKey, issuer: root, issuerKey: rootKey)
        gatewayKey = try PrivateKey.generate(keyType)
        gateway = try PKI.issue(.gateway(subject: "CN=gw1.example.net,O=Viaduct", subjectAltNames: gatewaySANs,
                                         notBefore: now - Self.day, notAfter: now + 365 * Self.day),
                                publicKey: gatewayKey.publicKey, issuer: intermediate, issuerKey: intermediateKey)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func cleanup() { try? FileManager.default.removeItem(at: dir) }

    func validator(crls: [CertificateRevocationList] = []) -> CertificateValidator {
        CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [root], crls: crls))
    }

    func issueGateway(_ template: CertificateTemplate, key: PrivateKey? = nil) throws -> Certificate {
        try PKI.issue(template, publicKey: (key ?? gatewayKey).publicKey, issuer: intermediate, issuerKey: intermediateKey)
    }
}

@Suite struct PKIFixtureTests {
    @Test func fixtureBuildsAThreeLevelChain() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        #expect(pki.root.isCA && pki.root.isSelfSigned)
        #expect(pki.intermediate.isCA && pki.intermediate.issuer == pki.root.subject)
        #expect(!pki.gateway.isCA && pki.gateway.issuer == pki.intermediate.subject)
    }
}
