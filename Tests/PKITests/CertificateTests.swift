import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import TestSupport
import Testing

@Suite struct CertificateTests {
    @Test func accessorsReflectIssuedContent() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let gw = pki.gateway
        #expect(gw.subject.string == "CN=gw1.example.net,O=Viaduct")
        #expect(gw.issuer.string == "CN=Viaduct Test Intermediate,O=Viaduct,C=CH")
        #expect(gw.issuer.der == pki.intermediate.subject.der)
        #expect(gw.serialNumber.count == 16)
        #expect(gw.notBefore == TestPKI.now - TestPKI.day && gw.notAfter == TestPKI.now + 365 * TestPKI.day)
        #expect(gw.subjectAltNames == [.dns("gw1.example.net"), .ipAddress([192, 0, 2, 1]), .email("ops@example.net")])
        #expect(gw.keyUsage == [.digitalSignature])
        #expect(gw.extendedKeyUsage == [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth, ExtendedKeyUsage.ipsecIKE])
        #expect(!gw.isCA)
        #expect(gw.publicKey.algorithm == .ecdsa(.p256))
        #expect(gw.publicKey == (try pki.gatewayKey.publicKey))
        #expect(pki.root.keyUsage == [.keyCertSign, .cRLSign])
        #expect(pki.root.extendedKeyUsage == nil)
        #expect(pki.root.spkiSHA1.count == 20)
        #expect(pki.root.spkiSHA1 != pki.intermediate.spkiSHA1)
        // Serial numbers are random.
        #expect(pki.root.serialNumber != pki.intermediate.serialNumber)
    }

    /// RFC 7296 §3.7: the CERTREQ hash is SHA-1 over the whole SubjectPublicKeyInfo, as
    /// `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha1` computes it.
    @Test func spkiHashMatchesOpenSSL() throws {
        guard let openssl = TestProcess.find("openssl") else { print("skipping: openssl binary not found"); return }
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let cert = try pki.write("root.pem", pki.root.pem)
        let spki = pki.path("spki.der")
        let r1 = try TestProcess.run(openssl, ["x509", "-in", cert, "-noout", "-pubkey", "-out", pki.path("pub.pem")])
        #expect(r1.status == 0, "\(r1.output)")
        let r2 = try TestProcess.run(openssl, ["pkey", "-pubin", "-in", pki.path("pub.pem"), "-outform", "DER", "-out", spki])
        #expect(r2.status == 0, "\(r2.output)")
        let der = try [UInt8](Data(contentsOf: URL(fileURLWithPath: spki)))
        #expect(der == pki.root.publicKey.subjectPublicKeyInfo)
        let r3 = try TestProcess.run(openssl, ["dgst", "-sha1", "-r", spki])
        #expect(r3.output.hasPrefix(pki.root.spkiSHA1.map { String(format: "%02x", $0) }.joined()))
    }

    @Test(arguments: [KeyType.ecdsaP384, .ecdsaP521, .rsa2048, .ed25519])
    func otherKeyTypesIssueAndValidate(_ type: KeyType) throws {
        let pki = try TestPKI(keyType: type)
        defer { pki.cleanup() }
        #expect(pki.gateway.publicKey.algorithm == type.algorithm)
        try pki.validator().validate(pki.gateway, intermediates: [pki.intermediate],
                                     identity: .fqdn("gw1.example.net"), at: TestPKI.now)
    }

    @Test func pemAndDERRoundTrip() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        #expect(try Certificate(bytes: Array(pki.gateway.pem.utf8)) == pki.gateway)
        #expect(try Certificate(bytes: pki.gateway.derBytes) == pki.gateway)
        let bundle = pki.gateway.pem + pki.intermediate.pem + pki.root.pem
        let all = try Certificate.parseAll(pem: Array(bundle.utf8))
        #expect(all == [pki.gateway, pki.intermediate, pki.root])
        let p = try pki.write("bundle.pem", bundle)
        #expect(try Certificate.load(path: p).count == 3)
        try Data(pki.root.derBytes).write(to: URL(fileURLWithPath: pki.path("root.der")))
        #expect(try Certificate.load(path: pki.path("root.der")) == [pki.root])
    }

    @Test func privateKeysLoadInEveryFormatAndAreWritten0600() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        for type in [KeyType.ecdsaP256, .rsa2048, .ed25519] {
            let key = try PrivateKey.generate(type)
            let p = pki.path("key-\(type).pem")
            try key.write(toPath: p)
            var st = stat()
            #expect(stat(p, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o600)
            let loaded = try PrivateKey.load(path: p)
            #expect(try loaded.publicKey == key.publicKey)
            #expect(String(describing: loaded).contains("PrivateKey(") && !String(describing: loaded).contains("BEGIN"))
            // Refuses to clobber an existing key unless asked.
            #expect(throws: CryptoError.self) { try key.write(toPath: p) }
            try key.write(toPath: p, overwrite: true)

            guard let openssl = TestProcess.find("openssl") else { continue }
            // PKCS#8 DER, and the traditional PEM / DER forms (EC PRIVATE KEY, RSA PRIVATE KEY).
            var forms: [(String, [String])] = [("p8.der", ["-outform", "DER"])]
            if type != .ed25519 {
                forms += [("trad.pem", ["-traditional"]), ("trad.der", ["-traditional", "-outform", "DER"])]
            }
            for (suffix, flags) in forms {
                let out = pki.path("key-\(type)-\(suffix)")
                let r = try TestProcess.run(openssl, ["pkey", "-in", p, "-out", out] + flags)
                #expect(r.status == 0, "\(r.output)")
                #expect(try PrivateKey.load(path: out).publicKey == key.publicKey, "\(type) \(suffix)")
            }
        }
        // An encrypted key is refused with a clear error, never a password prompt.
        if let openssl = TestProcess.find("openssl") {
            let enc = pki.path("enc.pem")
            let r = try TestProcess.run(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                           "-aes256", "-pass", "pass:secret", "-out", enc])
            #expect(r.status == 0)
            #expect { try PrivateKey.load(path: enc) } throws: { ($0 as? CryptoError)?.code == .unsupportedAlgorithm }
        }
    }

    @Test func crlRoundTrip() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let crl = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey,
                                   revoked: [.init(serialNumber: pki.gateway.serialNumber, revocationDate: TestPKI.now)],
                                   crlNumber: 7, thisUpdate: TestPKI.now, nextUpdate: TestPKI.now + 7 * TestPKI.day)
        #expect(crl.issuer == pki.intermediate.subject)
        #expect(crl.crlNumber == 7)
        #expect(crl.isRevoked(serialNumber: pki.gateway.serialNumber))
        #expect(!crl.isRevoked(serialNumber: pki.intermediate.serialNumber))
        #expect(crl.isSigned(by: pki.intermediate) && !crl.isSigned(by: pki.root))
        #expect(try CertificateRevocationList(bytes: Array(crl.pem.utf8)) == crl)
        #expect(try CertificateRevocationList(bytes: crl.derBytes).thisUpdate == TestPKI.now)
        // Wrong CA key is refused.
        #expect(throws: CryptoError.self) {
            try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.rootKey, revoked: [], crlNumber: 1,
                             thisUpdate: TestPKI.now, nextUpdate: TestPKI.now + 1)
        }
    }

    @Test func malformedInputIsRejectedWithErrors() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let der = pki.gateway.derBytes
        func rejects(_ bytes: [UInt8]) -> Bool {
            do { _ = try Certificate(bytes: bytes); return false } catch is CryptoError { return true } catch { return false }
        }
        #expect(rejects([]))
        #expect(rejects(Array(der.prefix(der.count - 1))))
        #expect(rejects(Array(der.prefix(10))))
        #expect(rejects(der + [0x00]))  // trailing garbage
        #expect(rejects(Array("-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n".utf8)))
        #expect(rejects(Array("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".utf8)))
        #expect(rejects(Array("hello world".utf8)))
        for n in stride(from: 1, to: der.count, by: 37) { #expect(rejects(Array(der.prefix(n)))) }
        // Keys and CRLs too.
        #expect(throws: CryptoError.self) { try PrivateKey(bytes: Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)) }
        #expect(throws: CryptoError.self) { try PrivateKey(bytes: [0x30, 0x03, 0x02, 0x01, 0x00]) }
        #expect(throws: CryptoError.self) { try PrivateKey(bytes: []) }
        #expect(throws: CryptoError.self) { try CertificateRevocationList(bytes: Array(der.prefix(50))) }
        #expect(throws: CryptoError.self) { try PublicKey(subjectPublicKeyInfo: [0x30, 0x00]) }
        #expect(throws: CryptoError.self) { try DistinguishedName(parsing: "CN") }
        #expect(throws: CryptoError.self) { try DistinguishedName(parsing: "NOPE=x") }
        #expect(throws: CryptoError.self) { try CertificateIdentity(parsing: "bad host!") }
    }

    /// A few hundred seeded random mutations of a valid certificate: each either parses (the
    /// mutation hit a non-structural byte) or throws a CryptoError — never crashes or hangs.
    @Test func mutatedCertificatesNeverCrash() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let der = pki.gateway.derBytes
        var rng = SplitMix64(seed: 0x5EED_CAFE)
        var rejected = 0
        var accepted = 0
        let validator = pki.validator()
        for i in 0..<400 {
            var m = der
            let edits = Int.random(in: 1...4, using: &rng)
            for _ in 0..<edits {
                let pos = Int.random(in: 0..<m.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: m[pos] = UInt8.random(in: 0...255, using: &rng)
                case 1: m[pos] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                case 2: m.remove(at: pos)
                default: m.insert(UInt8.random(in: 0...255, using: &rng), at: pos)
                }
                if m.isEmpty { m = [0] }
            }
            do {
                let c = try Certificate(derEncoded: m)
                accepted += 1
                // Whatever parsed must also survive validation (and almost surely fail it).
                _ = try? validator.validate(c, intermediates: [pki.intermediate], identity: .fqdn("gw1.example.net"), at: TestPKI.now)
                _ = c.pem; _ = c.spkiSHA1; _ = c.subjectAltNames.map(\.description)
            } catch let e as CryptoError {
                rejected += 1
                #expect(!e.message.isEmpty, "mutation \(i)")
            }
            // PEM-armoured mutations go through the PEM path.
            _ = try? Certificate(bytes: Array(Certificate.armorForTests(m).utf8))
        }
        #expect(rejected + accepted == 400)
        #expect(rejected > 200)
    }
}

extension Certificate {
    static func armorForTests(_ der: [UInt8]) -> String {
        "-----BEGIN CERTIFICATE-----\n" + Data(der).base64EncodedString(options: .lineLength64Characters) + "\n-----END CERTIFICATE-----\n"
    }
}
