import COpenSSL
import ViaductCrypto
import CryptoCore

/// A parsed X.509 v2 CRL (RFC 5280 §5). A value holding the DER and the fields `pki show` and
/// the revocation tooling need; chain validation hands the DER back to OpenSSL.
public struct CertificateRevocationList: Sendable, Hashable, CustomStringConvertible {
    public struct Entry: Sendable, Hashable {
        /// Serial number, big-endian magnitude.
        public let serialNumber: [UInt8]
        public let revocationDate: Int64
        public init(serialNumber: [UInt8], revocationDate: Int64) {
            self.serialNumber = Array(serialNumber.drop { $0 == 0 })
            self.revocationDate = revocationDate
        }
    }

    public let derBytes: [UInt8]
    public let issuer: DistinguishedName
    /// thisUpdate / nextUpdate, epoch seconds.
    public let thisUpdate: Int64
    public let nextUpdate: Int64?
    public let revoked: [Entry]
    /// cRLNumber extension (RFC 5280 §5.2.3), when present and small enough to read.
    public let crlNumber: UInt64?

    public init(derEncoded der: [UInt8]) throws {
        let crl = try X509Support.d2i(der, "CRL") { p, n in d2i_X509_CRL(nil, p, n) }
        defer { X509_CRL_free(crl) }
        try self.init(crl: crl, der: der)
    }

    /// PEM ("X509 CRL") or DER, auto-detected.
    public init(bytes: [UInt8]) throws {
        if Certificate.looksLikePEM(bytes) {
            let crl = try X509Support.withReadBIO(bytes) { bio in PEM_read_bio_X509_CRL(bio, nil, nil, nil) }
            guard let crl else {
                OpenSSL.clearErrors()
                throw CryptoError(.malformed, "no valid PEM CRL found")
            }
            defer { X509_CRL_free(crl) }
            guard let der = X509Support.der({ i2d_X509_CRL(crl, $0) }) else { throw OpenSSL.error(.malformed, "re-encoding CRL") }
            try self.init(crl: crl, der: der)
        } else {
            try self.init(derEncoded: bytes)
        }
    }

    public static func load(path: String) throws -> CertificateRevocationList {
        let bytes = try PKIFiles.read(path)
        do {
            return try CertificateRevocationList(bytes: bytes)
        } catch let e as CryptoError {
            throw CryptoError(e.code, "\(path): \(e.message)")
        }
    }

    init(crl: OpaquePointer, der: [UInt8]) throws {
        self.derBytes = der
        self.issuer = DistinguishedName(X509_CRL_get_issuer(crl))
        guard let this = X509Support.epoch(X509_CRL_get0_lastUpdate(crl)) else {
            OpenSSL.clearErrors()
            throw CryptoError(.malformed, "CRL has an unreadable thisUpdate")
        }
        self.thisUpdate = this
        self.nextUpdate = X509Support.epoch(X509_CRL_get0_nextUpdate(crl))
        var entries: [Entry] = []
        if let stack = X509_CRL_get_REVOKED(crl) {
            for i in 0..<viaduct_sk_X509_REVOKED_num(stack) {
                guard let r = viaduct_sk_X509_REVOKED_value(stack, i) else { continue }
                entries.append(Entry(serialNumber: X509Support.bytes(X509_REVOKED_get0_serialNumber(r)),
                                     revocationDate: X509Support.epoch(X509_REVOKED_get0_revocationDate(r)) ?? 0))
            }
        }
        self.revoked = entries
        var crit: Int32 = 0
        if let raw = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, nil) {
            let n = raw.assumingMemoryBound(to: ASN1_INTEGER.self)
            defer { ASN1_INTEGER_free(n) }
            var v: UInt64 = 0
            self.crlNumber = ASN1_INTEGER_get_uint64(&v, n) == 1 ? v : nil
        } else {
            self.crlNumber = nil
        }
        OpenSSL.clearErrors()
    }

    public func isRevoked(serialNumber: [UInt8]) -> Bool {
        let s = Array(serialNumber.drop { $0 == 0 })
        return revoked.contains { $0.serialNumber == s }
    }

    /// True when `issuer`'s key signed this CRL.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let crl = try? X509Support.d2i(derBytes, "CRL", { p, n in d2i_X509_CRL(nil, p, n) }) else { return false }
        defer { X509_CRL_free(crl) }
        let ok = issuer.publicKey.withEVP { X509_CRL_verify(crl, $0) == 1 }
        OpenSSL.clearErrors()
        return ok
    }

    public var pem: String {
        Certificate.armor(derBytes, label: "X509 CRL")
    }

    public var description: String { "CRL(\(issuer), \(revoked.count) revoked)" }

    public static func == (a: Self, b: Self) -> Bool { a.derBytes == b.derBytes }
    public func hash(into h: inout Hasher) { h.combine(derBytes) }
}
