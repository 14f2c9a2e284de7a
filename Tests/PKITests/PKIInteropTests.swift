import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import TestSupport
import Testing

/// Cross-checks with the two references an operator will actually meet: OpenSSL's `openssl
/// verify` and strongSwan's `pki`. Certificates here use the real current time because the
/// external tools check against their own clock.
@Suite struct PKIInteropTests {
    static var realNow: Int64 { Int64(Date().timeIntervalSince1970) }

    @Test(arguments: [KeyType.ecdsaP256, .rsa3072, .ed25519])
    func viaductChainAcceptedByOpenSSLVerify(_ type: KeyType) throws {
        guard let openssl = TestProcess.find("openssl") else { print("skipping: openssl binary not found"); return }
        let pki = try TestPKI(keyType: type, now: Self.realNow)
        defer { pki.cleanup() }
        let ca = try pki.write("ca.pem", pki.root.pem)
        let int = try pki.write("int.pem", pki.intermediate.pem)
        let gw = try pki.write("gw.pem", pki.gateway.pem)
        let r = try TestProcess.run(openssl, ["verify", "-x509_strict", "-CAfile", ca, "-untrusted", int, gw])
        #expect(r.status == 0, "\(r.output)")
        // With CRLs: clean, then revoked.
        let rootCRL = try PKI.issueCRL(issuer: pki.root, issuerKey: pki.rootKey, revoked: [], crlNumber: 1,
                                       thisUpdate: pki.now - 60, nextUpdate: pki.now + 86_400)
        let intCRL = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey,
                                      revoked: [.init(serialNumber: pki.gateway.serialNumber, revocationDate: pki.now - 60)],
                                      crlNumber: 1, thisUpdate: pki.now - 60, nextUpdate: pki.now + 86_400)
        let crls = try pki.write("crls.pem", rootCRL.pem + intCRL.pem)
        let revoked = try TestProcess.run(openssl, ["verify", "-crl_check_all", "-CAfile", ca, "-untrusted", int, "-CRLfile", crls, gw])
        #expect(revoked.status != 0 && revoked.output.contains("revoked"), "\(revoked.output)")
        let intOK = try TestProcess.run(openssl, ["verify", "-crl_check_all", "-CAfile", ca, "-CRLfile", crls, int])
        #expect(intOK.status == 0, "\(intOK.output)")
    }

    @Test(arguments: [KeyType.ecdsaP256, .rsa3072, .ed25519])
    func viaductChainAcceptedByStrongSwanPKI(_ type: KeyType) throws {
        guard let pkiTool = TestProcess.find("pki") else {
            print("skipping: strongSwan 'pki' binary not found (apt-get install strongswan-pki)")
            return
        }
        let pki = try TestPKI(keyType: type, now: Self.realNow)
        defer { pki.cleanup() }
        let ca = try pki.write("ca.pem", pki.root.pem)
        let int = try pki.write("int.pem", pki.intermediate.pem)
        let gw = try pki.write("gw.pem", pki.gateway.pem)
        // strongSwan resolves the intermediate from additional --cacert arguments.
        let r = try TestProcess.run(pkiTool, ["--verify", "--in", gw, "--cacert", ca, "--cacert", int])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("certificate trusted"), "\(r.output)")
        // And it parses our gateway certificate's extensions as intended.
        let p = try TestProcess.run(pkiTool, ["--print", "--in", gw])
        #expect(p.output.contains("gw1.example.net") && p.output.contains("192.0.2.1"), "\(p.output)")
        #expect(p.output.lowercased().contains("serverauth") || p.output.contains("serverAuth"), "\(p.output)")
        // CRL issued by Viaduct is understood and applied by strongSwan.
        let intCRL = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey,
                                      revoked: [.init(serialNumber: pki.gateway.serialNumber, revocationDate: pki.now - 60)],
                                      crlNumber: 5, thisUpdate: pki.now - 60, nextUpdate: pki.now + 86_400)
        let crlPath = try pki.write("int.crl", intCRL.pem)
        let rc = try TestProcess.run(pkiTool, ["--verify", "--in", gw, "--cacert", ca, "--cacert", int, "--crl", crlPath])
        #expect(rc.status != 0, "strongSwan should reject a revoked certificate: \(rc.output)")
        #expect(rc.output.contains("revoked"), "\(rc.output)")
    }

    @Test(arguments: ["ecdsa", "rsa", "ed25519"])
    func strongSwanIssuedCertificateAcceptedByViaduct(_ type: String) throws {
        guard let sw = TestProcess.find("pki") else {
            print("skipping: strongSwan 'pki' binary not found (apt-get install strongswan-pki)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-sw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func p(_ n: String) -> String { dir.appendingPathComponent(n).path }
        var gen = ["--gen", "--type", type, "--outform", "pem"]
        if type == "rsa" { gen += ["--size", "3072"] }
        let caKey = try TestProcess.run(sw, gen)
        #expect(caKey.status == 0, "\(caKey.output)")
        try caKey.output.write(toFile: p("ca.key"), atomically: true, encoding: .utf8)
        let ca = try TestProcess.run(sw, ["--self", "--ca", "--lifetime", "3650", "--in", p("ca.key"), "--type", type == "ecdsa" ? "ecdsa" : type,
                                   "--dn", "C=CH, O=strongSwan Test, CN=strongSwan Root CA", "--outform", "pem"])
        #expect(ca.status == 0, "\(ca.output)")
        try ca.output.write(toFile: p("ca.pem"), atomically: true, encoding: .utf8)
        let eeKey = try TestProcess.run(sw, gen)
        try eeKey.output.write(toFile: p("ee.key"), atomically: true, encoding: .utf8)
        let eePub = try TestProcess.run(sw, ["--pub", "--in", p("ee.key"), "--type", "priv", "--outform", "pem"])
        try eePub.output.write(toFile: p("ee.pub"), atomically: true, encoding: .utf8)
        let ee = try TestProcess.run(sw, ["--issue", "--lifetime", "365", "--cacert", p("ca.pem"), "--cakey", p("ca.key"),
                                   "--in", p("ee.pub"), "--type", "pub",
                                   "--dn", "C=CH, O=strongSwan Test, CN=moon.strongswan.org",
                                   "--san", "moon.strongswan.org", "--san", "192.168.0.1", "--san", "moon@strongswan.org",
                                   "--flag", "serverAuth", "--flag", "ikeIntermediate", "--outform", "pem"])
        #expect(ee.status == 0, "\(ee.output)")
        let root = try Certificate(bytes: Array(ca.output.utf8))
        let cert = try Certificate(bytes: Array(ee.output.utf8))
        #expect(root.isCA)
        #expect(cert.subjectAltNames.contains(.dns("moon.strongswan.org")))
        #expect(cert.subjectAltNames.contains(.ipAddress([192, 168, 0, 1])))
        let v = CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [root]))
        let now = Self.realNow
        for id in [CertificateIdentity.fqdn("moon.strongswan.org"), .ipAddress([192, 168, 0, 1]), .rfc822("moon@strongswan.org"),
                   try CertificateIdentity(parsing: "CN=moon.strongswan.org,O=strongSwan Test,C=CH")] {
            try v.validate(cert, identity: id, at: now)
        }
        #expect(throws: CryptoError.self) { try v.validate(cert, identity: .fqdn("sun.strongswan.org"), at: now) }
        // The strongSwan key signs, Viaduct verifies, with the negotiated scheme.
        let key = try PrivateKey.load(path: p("ee.key"))
        guard let scheme = SignatureScheme.negotiate(for: key.algorithm, peerHashes: Set(SignatureScheme.announcedHashes)) else {
            Issue.record("no scheme for \(key.algorithm)")
            return
        }
        let sig = try Signature.sign([1, 2, 3], with: key, scheme: scheme)
        #expect(try Signature.verify(sig, for: [1, 2, 3], certificate: cert, scheme: scheme))
        // strongSwan CRL revoking the cert is honoured.
        try ee.output.write(toFile: p("ee.pem"), atomically: true, encoding: .utf8)
        let crl2 = try TestProcess.run(sw, ["--signcrl", "--cacert", p("ca.pem"), "--cakey", p("ca.key"), "--lifetime", "30",
                                     "--cert", p("ee.pem"), "--outform", "pem"])
        #expect(crl2.status == 0, "\(crl2.output)")
        let swCRL = try CertificateRevocationList(bytes: Array(crl2.output.utf8))
        #expect(swCRL.isRevoked(serialNumber: cert.serialNumber))
        let vr = CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [root], crls: [swCRL]))
        // pki stamps thisUpdate with the second it signed in, which can be after `now`: check
        // just after it (a CRL from the future is rightly "not yet valid").
        let afterCRL = Self.realNow + 2
        #expect { try vr.validate(cert, identity: nil, at: afterCRL) } throws: { ($0 as? CryptoError)?.code == .certificateRevoked }
    }
}
