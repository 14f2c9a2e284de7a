import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import Testing

@Suite struct PKIValidationTests {
    func code(_ body: () throws -> Void) -> CryptoError.Code? {
        do { try body(); return nil } catch let e as CryptoError { return e.code } catch { return nil }
    }

    @Test func validChainAcceptedForEveryIdentityType() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let v = pki.validator()
        for id in [CertificateIdentity.fqdn("gw1.example.net"), .fqdn("GW1.Example.NET."), .ipAddress([192, 0, 2, 1]),
                   .rfc822("ops@EXAMPLE.net"), .distinguishedName(pki.gateway.subject.der),
                   try CertificateIdentity(parsing: "CN=gw1.example.net, O=Viaduct")] {
            let chain = try v.validate(pki.gateway, intermediates: [pki.intermediate], identity: id, at: TestPKI.now)
            #expect(chain == [pki.gateway, pki.intermediate, pki.root], "\(id)")
        }
        // Without an identity (e.g. the IKE layer checks it separately).
        try v.validate(pki.gateway, intermediates: [pki.intermediate], identity: nil, at: TestPKI.now)
        // IPv6 SAN.
        let v6 = try pki.issueGateway(.gateway(subject: "CN=gw6", subjectAltNames: [try SubjectAltName(parsing: "2001:db8::1")],
                                              notBefore: TestPKI.now - 1, notAfter: TestPKI.now + TestPKI.day))
        try v.validate(v6, intermediates: [pki.intermediate], identity: try CertificateIdentity(parsing: "2001:db8::1"), at: TestPKI.now)
    }

    /// A validator reuses what OpenSSL verified for the exact same certificates (signatures,
    /// path); validity must still be judged at every validation's own time, for every
    /// certificate of the chain, and a chain presented differently is verified afresh.
    @Test func reusedVerificationStillChecksTimeEveryTime() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let v = pki.validator()
        // A gateway that outlives its intermediate (which expires at now + 1825 days).
        let late = try pki.issueGateway(.gateway(subject: "CN=gw1.example.net,O=Viaduct", subjectAltNames: [.dns("gw1.example.net")],
                                                 notBefore: TestPKI.now - TestPKI.day, notAfter: TestPKI.now + 2000 * TestPKI.day))
        let ints = [pki.intermediate]
        #expect(try v.validate(late, intermediates: ints, identity: nil, at: TestPKI.now) == [late, pki.intermediate, pki.root])
        #expect(code { try v.validate(late, intermediates: ints, identity: nil, at: late.notBefore - 1) } == .certificateNotYetValid)
        #expect(code { try v.validate(late, intermediates: ints, identity: nil, at: pki.intermediate.notAfter + 1) } == .certificateExpired)
        #expect(code { try v.validate(late, intermediates: ints, identity: nil, at: late.notAfter + 1) } == .certificateExpired)
        // Still accepted in between, and usage and identity are checked on every call.
        try v.validate(late, intermediates: ints, identity: .fqdn("gw1.example.net"), at: TestPKI.now + TestPKI.day)
        #expect(code { try v.validate(late, intermediates: ints, identity: .fqdn("gw2.example.net"), at: TestPKI.now) } == .identityMismatch)
        // Without the intermediate the same end entity is not trusted, whatever came before.
        #expect(code { try v.validate(late, intermediates: [], identity: nil, at: TestPKI.now) } == .certificateUntrusted)
        // OpenSSL's boundary: the notAfter second itself is expired, reused or not.
        try v.validate(pki.gateway, intermediates: ints, identity: nil, at: TestPKI.now)
        #expect(code { try v.validate(pki.gateway, intermediates: ints, identity: nil, at: pki.gateway.notAfter) } == .certificateExpired)
        try v.validate(pki.gateway, intermediates: ints, identity: nil, at: pki.gateway.notAfter - 1)
        // The same certificate bytes parsed through the validator are the same certificate.
        #expect(try v.certificate(derEncoded: late.derBytes) == late)
    }

    /// With CRLs, a reused verification still needs every issuer's CRL to be current at the
    /// validation's time: before thisUpdate or after nextUpdate the whole validation runs and
    /// fails as it would have the first time.
    @Test func reusedVerificationStillChecksCRLsEveryTime() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let gw = pki.gateway
        let ints = [pki.intermediate]
        let rootCRL = try PKI.issueCRL(issuer: pki.root, issuerKey: pki.rootKey, revoked: [], crlNumber: 1,
                                       thisUpdate: TestPKI.now - TestPKI.day, nextUpdate: TestPKI.now + 30 * TestPKI.day)
        let intCRL = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey, revoked: [], crlNumber: 2,
                                      thisUpdate: TestPKI.now - TestPKI.day, nextUpdate: TestPKI.now + 10 * TestPKI.day)
        let v = pki.validator(crls: [rootCRL, intCRL])
        try v.validate(gw, intermediates: ints, identity: nil, at: TestPKI.now)
        try v.validate(gw, intermediates: ints, identity: nil, at: TestPKI.now + TestPKI.day)
        // The intermediate's CRL expires first (nextUpdate itself counts as expired, as in OpenSSL).
        #expect(code { try v.validate(gw, intermediates: ints, identity: nil, at: intCRL.nextUpdate ?? 0) } == .crlInvalid)
        #expect(code { try v.validate(gw, intermediates: ints, identity: nil, at: TestPKI.now + 20 * TestPKI.day) } == .crlInvalid)
        #expect(code { try v.validate(gw, intermediates: ints, identity: nil, at: intCRL.thisUpdate - 1) } == .crlInvalid)
        try v.validate(gw, intermediates: ints, identity: nil, at: (intCRL.nextUpdate ?? 0) - 1)
        // A revoked gateway is refused every time, never remembered.
        let revoking = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey,
                                        revoked: [.init(serialNumber: gw.serialNumber, revocationDate: TestPKI.now - 60)],
                                        crlNumber: 3, thisUpdate: TestPKI.now - TestPKI.day, nextUpdate: TestPKI.now + 10 * TestPKI.day)
        let strict = pki.validator(crls: [rootCRL, revoking])
        for _ in 0..<2 {
            #expect(code { try strict.validate(gw, intermediates: ints, identity: nil, at: TestPKI.now) } == .certificateRevoked)
        }
    }

    @Test func eachFailureHasADistinctCode() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        let v = pki.validator()
        let gw = pki.gateway
        let ints = [pki.intermediate]
        var codes: [CryptoError.Code] = []

        // Expired / not yet valid: same certificate, injected time moved.
        let expired = code { try v.validate(gw, intermediates: ints, identity: nil, at: gw.notAfter + 1) }
        #expect(expired == .certificateExpired)
        let early = code { try v.validate(gw, intermediates: ints, identity: nil, at: gw.notBefore - 1) }
        #expect(early == .certificateNotYetValid)
        // notBefore is inclusive; OpenSSL treats the notAfter second itself as expired
        // (X509_cmp_time "earlier than or equal"), one second stricter than RFC 5280 §4.1.2.5.
        try v.validate(gw, intermediates: ints, identity: nil, at: gw.notAfter - 1)
        try v.validate(gw, intermediates: ints, identity: nil, at: gw.notBefore)

        // Wrong CA: a different root; also a missing intermediate.
        let other = try TestPKI()
        defer { other.cleanup() }
        let untrusted = code { try other.validator().validate(gw, intermediates: ints, identity: nil, at: TestPKI.now) }
        #expect(untrusted == .certificateUntrusted)
        #expect(code { try v.validate(gw, intermediates: [], identity: nil, at: TestPKI.now) } == .certificateUntrusted)
        // Self-signed end entity.
        #expect(code { try v.validate(other.root, identity: nil, at: TestPKI.now) } == .certificateUntrusted)

        // Revoked by the intermediate's CRL (root CRL also present: CRL_CHECK_ALL).
        let rootCRL = try PKI.issueCRL(issuer: pki.root, issuerKey: pki.rootKey, revoked: [], crlNumber: 1,
                                       thisUpdate: TestPKI.now - TestPKI.day, nextUpdate: TestPKI.now + 30 * TestPKI.day)
        let intCRL = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey,
                                      revoked: [.init(serialNumber: gw.serialNumber, revocationDate: TestPKI.now - 60)],
                                      crlNumber: 2, thisUpdate: TestPKI.now - TestPKI.day, nextUpdate: TestPKI.now + 30 * TestPKI.day)
        let revoked = code { try pki.validator(crls: [rootCRL, intCRL]).validate(gw, intermediates: ints, identity: nil, at: TestPKI.now) }
        #expect(revoked == .certificateRevoked)
        // A clean CRL set accepts.
        let cleanInt = try PKI.issueCRL(issuer: pki.intermediate, issuerKey: pki.intermediateKey, revoked: [], crlNumber: 3,
                                        thisUpdate: TestPKI.now - TestPKI.day, nextUpdate: TestPKI.now + 30 * TestPKI.day)
        try pki.validator(crls: [rootCRL, cleanInt]).validate(gw, intermediates: ints, identity: nil, at: TestPKI.now)
        // CRLs configured, but none for the intermediate: an error, not a silent pass.
        let missing = code { try pki.validator(crls: [rootCRL]).validate(gw, intermediates: ints, identity: nil, at: TestPKI.now) }
        #expect(missing == .crlUnavailable)
        // An expired CRL is unusable.
        let stale = code { try pki.validator(crls: [rootCRL, cleanInt]).validate(gw, intermediates: ints, identity: nil, at: TestPKI.now + 31 * TestPKI.day) }
        #expect(stale == .crlInvalid)

        // Wrong identity.
        let wrongID = code { try v.validate(gw, intermediates: ints, identity: .fqdn("gw2.example.net"), at: TestPKI.now) }
        #expect(wrongID == .identityMismatch)
        #expect(code { try v.validate(gw, intermediates: ints, identity: .ipAddress([192, 0, 2, 2]), at: TestPKI.now) } == .identityMismatch)
        #expect(code { try v.validate(gw, intermediates: ints, identity: .rfc822("root@example.net"), at: TestPKI.now) } == .identityMismatch)
        #expect(code { try v.validate(gw, intermediates: ints, identity: .distinguishedName(pki.root.subject.der), at: TestPKI.now) } == .identityMismatch)
        // RFC 4945 §3.2.3: the CN is not a dNSName.
        let cnOnly = try pki.issueGateway(.gateway(subject: "CN=cn-only.example.net", subjectAltNames: [],
                                                  notBefore: TestPKI.now - 1, notAfter: TestPKI.now + TestPKI.day))
        #expect(code { try v.validate(cnOnly, intermediates: ints, identity: .fqdn("cn-only.example.net"), at: TestPKI.now) } == .identityMismatch)

        // Wrong key usage: keyEncipherment only; EKU emailProtection only.
        var kuTemplate = CertificateTemplate.gateway(subject: "CN=ku", subjectAltNames: [.dns("gw1.example.net")],
                                                     notBefore: TestPKI.now - 1, notAfter: TestPKI.now + TestPKI.day)
        kuTemplate.keyUsage = [.keyEncipherment]
        let wrongKU = code { try v.validate(try pki.issueGateway(kuTemplate), intermediates: ints, identity: .fqdn("gw1.example.net"), at: TestPKI.now) }
        #expect(wrongKU == .keyUsage)
        var ekuTemplate = kuTemplate
        ekuTemplate.keyUsage = [.digitalSignature]
        ekuTemplate.extendedKeyUsage = ["1.3.6.1.5.5.7.3.4"]
        #expect(code { try v.validate(try pki.issueGateway(ekuTemplate), intermediates: ints, identity: nil, at: TestPKI.now) } == .keyUsage)
        // No keyUsage/EKU extensions at all is acceptable (RFC 4945 §5.1.3.2: "if present").
        var bare = ekuTemplate
        bare.keyUsage = []
        bare.extendedKeyUsage = []
        try v.validate(try pki.issueGateway(bare), intermediates: ints, identity: .fqdn("gw1.example.net"), at: TestPKI.now)
        // ipsecIKE alone is enough.
        bare.extendedKeyUsage = [ExtendedKeyUsage.ipsecIKE]
        try v.validate(try pki.issueGateway(bare), intermediates: ints, identity: nil, at: TestPKI.now)

        codes = [expired, early, untrusted, revoked, wrongID, wrongKU, missing, stale].compactMap { $0 }
        #expect(codes.count == 8)
        #expect(Set(codes).count == 8, "codes must be distinct: \(codes)")
    }

    @Test func messagesNameTheSubjectAndReason() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        do {
            try pki.validator().validate(pki.gateway, intermediates: [pki.intermediate], identity: nil, at: pki.gateway.notAfter + 10)
            Issue.record("expected expiry")
        } catch let e as CryptoError {
            #expect(e.code == .certificateExpired)
            #expect(e.message.contains("CN=gw1.example.net,O=Viaduct"))
            #expect(e.message.contains("expired"))
            #expect(String(describing: e).hasPrefix("certificate-expired: "))
        }
        // An expired intermediate names the intermediate.
        do {
            try pki.validator().validate(pki.gateway, intermediates: [pki.intermediate], identity: nil, at: pki.intermediate.notAfter + 10)
            Issue.record("expected expiry")
        } catch let e as CryptoError {
            #expect(e.code == .certificateExpired)
            #expect(e.message.contains("Viaduct Test Intermediate") || e.message.contains("gw1"))
        }
    }

    @Test func intermediateAsTrustAnchorAndCAChecks() throws {
        let pki = try TestPKI()
        defer { pki.cleanup() }
        // Trusting the intermediate directly is allowed.
        let v = CertificateValidator(policy: CertificateValidationPolicy(trustAnchors: [pki.intermediate]))
        try v.validate(pki.gateway, identity: .fqdn("gw1.example.net"), at: TestPKI.now)
        // A gateway certificate (CA:FALSE) cannot act as an issuer.
        #expect(throws: CryptoError.self) {
            try PKI.issue(.gateway(subject: "CN=x", subjectAltNames: [], notBefore: 0, notAfter: 10),
                          publicKey: pki.gatewayKey.publicKey, issuer: pki.gateway, issuerKey: pki.gatewayKey)
        }
        // Mismatched CA key is refused.
        #expect { try PKI.issue(.gateway(subject: "CN=x", subjectAltNames: [], notBefore: 0, notAfter: 10),
                                publicKey: pki.gatewayKey.publicKey, issuer: pki.root, issuerKey: pki.intermediateKey) }
            throws: { ($0 as? CryptoError)?.code == .keyMismatch }
    }
}
