import COpenSSL
import ViaductCrypto
import CryptoCore

/// The identity a peer claims in its IDi/IDr payload, in the forms that can be bound to a
/// certificate (RFC 4945 §3.1). The IKEv2 layer maps ID types 1/5 (IPv4/IPv6), 2 (FQDN),
/// 3 (RFC822) and 9 (DER_ASN1_DN) onto these cases.
public enum CertificateIdentity: Sendable, Hashable, CustomStringConvertible {
    case fqdn(String)
    /// 4 (ID_IPV4_ADDR) or 16 (ID_IPV6_ADDR) bytes.
    case ipAddress([UInt8])
    case rfc822(String)
    /// DER-encoded Name (ID_DER_ASN1_DN).
    case distinguishedName([UInt8])

    /// Classifies operator text the way `viaduct pki issue --identity` and the topology do:
    /// an IP address, else a DN when it contains '=', else an email when it contains '@',
    /// else an FQDN.
    public init(parsing text: String) throws {
        let t = text.trimmingSpaces
        guard !t.isEmpty else { throw CryptoError(.invalidArgument, "empty identity") }
        if let ip = IPAddressText.parse(t) {
            self = .ipAddress(ip)
        } else if t.contains("=") {
            self = .distinguishedName(try DistinguishedName(parsing: t).der)
        } else if t.contains("@") {
            guard IdentityMatching.isValidEmail(t) else { throw CryptoError(.invalidArgument, "'\(t)' is not a valid email identity") }
            self = .rfc822(t)
        } else {
            guard IdentityMatching.isValidFQDN(t) else { throw CryptoError(.invalidArgument, "'\(t)' is not a valid FQDN identity") }
            self = .fqdn(t)
        }
    }

    public var description: String {
        switch self {
        case .fqdn(let s): "FQDN \(s)"
        case .ipAddress(let b): "IP \(IPAddressText.format(b))"
        case .rfc822(let s): "email \(s)"
        case .distinguishedName(let der):
            "DN \((try? DistinguishedName(der: der).string) ?? "<undecodable>")"
        }
    }

    /// RFC 4945 §3.2 / §4.1: whether the certificate binds this identity.
    /// - FQDN: a dNSName SAN, compared case-insensitively (RFC 4343), trailing dot ignored.
    ///   The subject CN is NOT consulted (RFC 4945 §3.2.3: it MUST NOT be used for ID_FQDN).
    /// - IPv4/IPv6: an iPAddress SAN with the same octets.
    /// - RFC822: an rfc822Name SAN; domain case-insensitive, local part exact.
    /// - DER_ASN1_DN: the subject DN (RFC 5280 §7.1 name comparison via X509_NAME_cmp, which
    ///   compares canonical forms: case and internal whitespace insensitive).
    public func isBound(to cert: Certificate) -> Bool {
        switch self {
        case .fqdn(let name):
            let want = IdentityMatching.normaliseFQDN(name)
            return cert.subjectAltNames.contains {
                if case .dns(let d) = $0 { return IdentityMatching.normaliseFQDN(d) == want }
                return false
            }
        case .ipAddress(let ip):
            return cert.subjectAltNames.contains { $0 == .ipAddress(ip) }
        case .rfc822(let mail):
            return cert.subjectAltNames.contains {
                if case .email(let m) = $0 { return IdentityMatching.emailEqual(m, mail) }
                return false
            }
        case .distinguishedName(let der):
            return IdentityMatching.namesEqual(der, cert.subject.der)
        }
    }
}

extension DistinguishedName {
    /// Decodes a DER Name (e.g. from an ID_DER_ASN1_DN payload).
    public init(der: [UInt8]) throws {
        let name = try X509Support.d2i(der, "name") { p, n in d2i_X509_NAME(nil, p, n) }
        defer { X509_NAME_free(name) }
        self.init(name)
    }
}

enum IdentityMatching {
    static func normaliseFQDN(_ s: String) -> String {
        var t = s.lowercased()
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    static func emailEqual(_ a: String, _ b: String) -> Bool {
        guard let ia = a.lastIndex(of: "@"), let ib = b.lastIndex(of: "@") else { return a == b }
        return a[..<ia] == b[..<ib] && a[ia...].lowercased() == b[ib...].lowercased()
    }

    static func namesEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a == b { return true }
        guard let na = try? X509Support.d2i(a, "name", { p, n in d2i_X509_NAME(nil, p, n) }) else { return false }
        defer { X509_NAME_free(na) }
        guard let nb = try? X509Support.d2i(b, "name", { p, n in d2i_X509_NAME(nil, p, n) }) else { return false }
        defer { X509_NAME_free(nb) }
        let r = X509_NAME_cmp(na, nb)
        OpenSSL.clearErrors()
        return r == 0
    }

    /// LDH labels (RFC 1123 §2.1), optional leading "*." for wildcard SANs, ≤ 253 octets.
    static func isValidFQDN(_ s: String) -> Bool {
        var t = Substring(s)
        if t.hasSuffix(".") { t.removeLast() }
        if t.hasPrefix("*.") { t.removeFirst(2) }
        guard !t.isEmpty, t.utf8.count <= 253 else { return false }
        return t.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
                }
        }
    }

    /// Conservative: one '@', a valid domain, and a local part without separators or spaces
    /// (so it can never inject into OpenSSL's "email:..." extension syntax).
    static func isValidEmail(_ s: String) -> Bool {
        guard let at = s.lastIndex(of: "@") else { return false }
        let local = s[..<at]
        let domain = String(s[s.index(after: at)...])
        return !local.isEmpty && local.utf8.count <= 64
            && local.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x2C && $0 != 0x40 && $0 != 0x3A }
            && isValidFQDN(domain)
    }
}
