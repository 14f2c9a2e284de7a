import COpenSSL
import ViaductCrypto
import CryptoCore

/// What to put into a certificate. Factories give the two profiles Viaduct issues; tests build
/// odd ones (wrong key usage, expired) by adjusting fields.
public struct CertificateTemplate: Sendable {
    public var subject: String
    public var subjectAltNames: [SubjectAltName]
    /// Validity, epoch seconds (injected; the library never reads the clock).
    public var notBefore: Int64
    public var notAfter: Int64
    public var isCA: Bool
    public var pathLength: Int?
    public var keyUsage: KeyUsage
    /// Dotted OIDs; empty = no extendedKeyUsage extension.
    public var extendedKeyUsage: [String]
    /// Serial number (big-endian); nil = 16 random bytes from OpenSSL's DRBG (RFC 5280 §4.1.2.2
    /// allows up to 20 octets; CA/B forum wants ≥ 64 bits of entropy).
    public var serialNumber: [UInt8]?

    public init(subject: String, subjectAltNames: [SubjectAltName] = [], notBefore: Int64, notAfter: Int64,
                isCA: Bool, pathLength: Int? = nil, keyUsage: KeyUsage, extendedKeyUsage: [String] = [],
                serialNumber: [UInt8]? = nil) {
        self.subject = subject
        self.subjectAltNames = subjectAltNames
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.isCA = isCA
        self.pathLength = pathLength
        self.keyUsage = keyUsage
        self.extendedKeyUsage = extendedKeyUsage
        self.serialNumber = serialNumber
    }

    /// A CA: basicConstraints CA:TRUE (critical), keyUsage keyCertSign + cRLSign (critical).
    public static func certificateAuthority(subject: String, notBefore: Int64, notAfter: Int64,
                                            pathLength: Int? = nil) -> CertificateTemplate {
        CertificateTemplate(subject: subject, notBefore: notBefore, notAfter: notAfter, isCA: true,
                            pathLength: pathLength, keyUsage: [.keyCertSign, .cRLSign])
    }

    /// A gateway (end entity): CA:FALSE, keyUsage digitalSignature (critical), EKU serverAuth +
    /// clientAuth + ipsecIKE — strongSwan and Windows/macOS IKEv2 clients all accept this set
    /// (RFC 4945 §5.1.3.12 allows ipsecIKE; many clients insist on serverAuth).
    public static func gateway(subject: String, subjectAltNames: [SubjectAltName], notBefore: Int64,
                               notAfter: Int64) -> CertificateTemplate {
        CertificateTemplate(subject: subject, subjectAltNames: subjectAltNames, notBefore: notBefore, notAfter: notAfter,
                            isCA: false, keyUsage: [.digitalSignature],
                            extendedKeyUsage: [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth, ExtendedKeyUsage.ipsecIKE])
    }
}

/// Certificate and CRL issuance (RFC 5280 profiles). Used by `viaduct pki` and by every test
/// that needs a throwaway PKI.
public enum PKI {
    /// Self-signed certificate (a root CA) for `key`.
    public static func selfSign(_ template: CertificateTemplate, key: PrivateKey) throws -> Certificate {
        try makeCertificate(template, publicKey: key.publicKey, issuer: nil, issuerKey: key)
    }

    /// Issues a certificate for `publicKey` signed by `issuer` / `issuerKey`.
    public static func issue(_ template: CertificateTemplate, publicKey: PublicKey,
                             issuer: Certificate, issuerKey: PrivateKey) throws -> Certificate {
        guard issuer.isCA else {
            throw CryptoError(.invalidArgument, "'\(issuer.subject)' is not a CA certificate (basicConstraints CA:FALSE)")
        }
        guard issuerKey.matches(issuer.publicKey) else {
            throw CryptoError(.keyMismatch, "the CA key does not belong to CA certificate '\(issuer.subject)'")
        }
        return try makeCertificate(template, publicKey: publicKey, issuer: issuer, issuerKey: issuerKey)
    }

    private static func makeCertificate(_ t: CertificateTemplate, publicKey: PublicKey, issuer: Certificate?,
                              issuerKey: PrivateKey) throws -> Certificate {
        guard t.notAfter > t.notBefore else { throw CryptoError(.invalidArgument, "notAfter must be after notBefore") }
        guard let x = X509_new() else { throw OpenSSL.error(.library, "X509_new") }
        defer { X509_free(x) }
        guard X509_set_version(x, 2) == 1 else { throw OpenSSL.error(.library, "X509_set_version") }

        let serial = try t.serialNumber ?? randomSerial()
        guard let ai = X509Support.asn1Integer(serial) else { throw OpenSSL.error(.library, "serial") }
        defer { ASN1_INTEGER_free(ai) }
        guard X509_set_serialNumber(x, ai) == 1 else { throw OpenSSL.error(.library, "X509_set_serialNumber") }

        let subject = try DistinguishedName.makeName(t.subject)
        defer { X509_NAME_free(subject) }
        guard X509_set_subject_name(x, subject) == 1 else { throw OpenSSL.error(.library, "X509_set_subject_name") }

        let issuerX509 = issuer.map { $0.makeX509() }
        defer { if let i = issuerX509 { X509_free(i) } }
        let issuerName = issuerX509.flatMap { X509_get_subject_name($0) } ?? subject
        guard X509_set_issuer_name(x, issuerName) == 1 else { throw OpenSSL.error(.library, "X509_set_issuer_name") }

        guard ASN1_TIME_set(X509_getm_notBefore(x), time_t(t.notBefore)) != nil,
              ASN1_TIME_set(X509_getm_notAfter(x), time_t(t.notAfter)) != nil else {
            throw OpenSSL.error(.invalidArgument, "validity out of range")
        }
        guard publicKey.withEVP({ X509_set_pubkey(x, $0) }) == 1 else { throw OpenSSL.error(.library, "X509_set_pubkey") }

        // RFC 5280 §4.2: extensions. SKI before AKI: for a self-signed CA the AKI is taken from
        // the certificate's own SKI.
        let ctxIssuer = issuerX509 ?? x
        var bc = t.isCA ? "critical,CA:TRUE" : "critical,CA:FALSE"
        if t.isCA, let p = t.pathLength { bc += ",pathlen:\(p)" }
        try addExtension(x, ctxIssuer, NID_basic_constraints, bc)
        if !t.keyUsage.isEmpty {
            try addExtension(x, ctxIssuer, NID_key_usage, "critical," + KeyUsage.names.filter { t.keyUsage.contains($0.0) }.map(\.1).joined(separator: ","))
        }
        if !t.extendedKeyUsage.isEmpty {
            guard t.extendedKeyUsage.allSatisfy({ $0.allSatisfy { $0.isNumber || $0 == "." } }) else {
                throw CryptoError(.invalidArgument, "extendedKeyUsage entries must be dotted OIDs")
            }
            try addExtension(x, ctxIssuer, NID_ext_key_usage, t.extendedKeyUsage.joined(separator: ","))
        }
        try addExtension(x, ctxIssuer, NID_subject_key_identifier, "hash")
        try addExtension(x, ctxIssuer, NID_authority_key_identifier, "keyid:always")
        if !t.subjectAltNames.isEmpty {
            try addExtension(x, ctxIssuer, NID_subject_alt_name, try sanConfig(t.subjectAltNames))
        }

        guard issuerKey.withEVP({ X509_sign(x, $0, signingDigest(for: issuerKey.algorithm)) }) > 0 else {
            throw OpenSSL.error(.library, "X509_sign")
        }
        guard let der = X509Support.der({ i2d_X509(x, $0) }) else { throw OpenSSL.error(.library, "i2d_X509") }
        return try Certificate(derEncoded: der)
    }

    /// Issues a CRL (RFC 5280 §5) listing `revoked`, with cRLNumber and authorityKeyIdentifier.
    public static func issueCRL(issuer: Certificate, issuerKey: PrivateKey,
                                revoked: [CertificateRevocationList.Entry], crlNumber: UInt64,
                                thisUpdate: Int64, nextUpdate: Int64) throws -> CertificateRevocationList {
        guard issuerKey.matches(issuer.publicKey) else {
            throw CryptoError(.keyMismatch, "the CA key does not belong to CA certificate '\(issuer.subject)'")
        }
        guard nextUpdate > thisUpdate else { throw CryptoError(.invalidArgument, "nextUpdate must be after thisUpdate") }
        let ca = issuer.makeX509()
        defer { X509_free(ca) }
        guard let crl = X509_CRL_new() else { throw OpenSSL.error(.library, "X509_CRL_new") }
        defer { X509_CRL_free(crl) }
        guard X509_CRL_set_version(crl, 1) == 1, X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) == 1 else {
            throw OpenSSL.error(.library, "CRL header")
        }
        guard let t1 = ASN1_TIME_new() else { throw OpenSSL.error(.library, "ASN1_TIME_new") }
        defer { ASN1_TIME_free(t1) }
        guard let t2 = ASN1_TIME_new() else { throw OpenSSL.error(.library, "ASN1_TIME_new") }
        defer { ASN1_TIME_free(t2) }
        guard ASN1_TIME_set(t1, time_t(thisUpdate)) != nil, ASN1_TIME_set(t2, time_t(nextUpdate)) != nil,
              X509_CRL_set1_lastUpdate(crl, t1) == 1, X509_CRL_set1_nextUpdate(crl, t2) == 1 else {
            throw OpenSSL.error(.library, "CRL times")
        }
        for entry in revoked {
            guard let r = X509_REVOKED_new() else { throw OpenSSL.error(.library, "X509_REVOKED_new") }
            guard let serial = X509Support.asn1Integer(entry.serialNumber), let when = ASN1_TIME_new() else {
                X509_REVOKED_free(r)
                throw OpenSSL.error(.library, "revoked entry")
            }
            defer { ASN1_INTEGER_free(serial); ASN1_TIME_free(when) }
            guard ASN1_TIME_set(when, time_t(entry.revocationDate)) != nil,
                  X509_REVOKED_set_serialNumber(r, serial) == 1,
                  X509_REVOKED_set_revocationDate(r, when) == 1,
                  X509_CRL_add0_revoked(crl, r) == 1 else {
                X509_REVOKED_free(r)
                throw OpenSSL.error(.library, "revoked entry")
            }
        }
        // RFC 5280 §5.2.1 (AKI, MUST) and §5.2.3 (cRLNumber, MUST).
        guard let aki = viaduct_ext_nconf(ca, nil, crl, NID_authority_key_identifier, "keyid:always") else {
            throw OpenSSL.error(.library, "CRL authorityKeyIdentifier")
        }
        defer { X509_EXTENSION_free(aki) }
        guard X509_CRL_add_ext(crl, aki, -1) == 1 else { throw OpenSSL.error(.library, "X509_CRL_add_ext") }
        guard let num = ASN1_INTEGER_new() else { throw OpenSSL.error(.library, "ASN1_INTEGER_new") }
        defer { ASN1_INTEGER_free(num) }
        guard ASN1_INTEGER_set_uint64(num, crlNumber) == 1,
              X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer(num), 0, 0) == 1 else {
            throw OpenSSL.error(.library, "cRLNumber")
        }
        guard X509_CRL_sort(crl) == 1, issuerKey.withEVP({ X509_CRL_sign(crl, $0, signingDigest(for: issuerKey.algorithm)) }) > 0 else {
            throw OpenSSL.error(.library, "X509_CRL_sign")
        }
        guard let der = X509Support.der({ i2d_X509_CRL(crl, $0) }) else { throw OpenSSL.error(.library, "i2d_X509_CRL") }
        return try CertificateRevocationList(derEncoded: der)
    }

    /// 16 random bytes, top bit clear (positive INTEGER) and first byte non-zero (exactly 16 octets).
    public static func randomSerial() throws -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&b, 16) == 1 else { throw OpenSSL.error(.library, "RAND_bytes") }
        b[0] = (b[0] & 0x7F) | 0x01
        return b
    }

    /// Hash for certificate/CRL signatures, matched to the key's strength (RFC 5480 §4).
    static func signingDigest(for alg: PublicKeyAlgorithm) -> OpaquePointer? {
        switch alg {
        case .ecdsa(.p384): EVP_sha384()
        case .ecdsa(.p521): EVP_sha512()
        case .ecdsa(.p256), .rsa: EVP_sha256()
        case .ed25519: nil  // RFC 8410 §6: no separate hash
        }
    }

    private static func addExtension(_ x: OpaquePointer, _ issuer: OpaquePointer, _ nid: Int32, _ value: String) throws {
        guard let ext = viaduct_ext_nconf(issuer, x, nil, nid, value) else {
            throw OpenSSL.error(.invalidArgument, "extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(x, ext, -1) == 1 else { throw OpenSSL.error(.library, "X509_add_ext") }
    }

    /// OpenSSL's "DNS:a,IP:1.2.3.4,email:x@y" syntax, with every value validated first so no
    /// value can smuggle a ',' or another GeneralName into the extension.
    private static func sanConfig(_ sans: [SubjectAltName]) throws -> String {
        try sans.map { san -> String in
            switch san {
            case .dns(let d):
                guard IdentityMatching.isValidFQDN(d) else { throw CryptoError(.invalidArgument, "'\(d)' is not a valid DNS name") }
                return "DNS:\(d)"
            case .ipAddress(let b):
                guard b.count == 4 || b.count == 16 else { throw CryptoError(.invalidArgument, "IP SAN must be 4 or 16 bytes") }
                return "IP:\(IPAddressText.format(b))"
            case .email(let e):
                guard IdentityMatching.isValidEmail(e) else { throw CryptoError(.invalidArgument, "'\(e)' is not a valid email address") }
                return "email:\(e)"
            case .uri, .directoryName, .other:
                throw CryptoError(.invalidArgument, "only DNS, IP and email subjectAltNames can be issued")
            }
        }.joined(separator: ",")
    }
}

extension SubjectAltName {
    /// Parses operator text: "DNS:x", "IP:1.2.3.4", "email:a@b", or a bare value classified like
    /// an identity (IP address, email if it has '@', else DNS name).
    public init(parsing text: String) throws {
        let t = text.trimmingSpaces
        let lower = t.lowercased()
        if lower.hasPrefix("dns:") { self = .dns(String(t.dropFirst(4))); return }
        if lower.hasPrefix("ip:") {
            guard let ip = IPAddressText.parse(String(t.dropFirst(3))) else { throw CryptoError(.invalidArgument, "'\(t)' is not an IP address") }
            self = .ipAddress(ip)
            return
        }
        if lower.hasPrefix("email:") { self = .email(String(t.dropFirst(6))); return }
        if let ip = IPAddressText.parse(t) { self = .ipAddress(ip); return }
        self = t.contains("@") ? .email(t) : .dns(t)
    }
}
