import COpenSSL
import ViaductCrypto
import CryptoCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An X.509 distinguished name: the RFC 4514-style string for people, the DER for comparisons
/// and for IKEv2 ID_DER_ASN1_DN payloads (RFC 7296 §3.5).
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    /// RFC 4514 order (most specific first), e.g. "CN=gw1.example.net,O=Example".
    public let string: String
    /// DER Name (RDNSequence).
    public let der: [UInt8]
    public var description: String { string }

    init(_ name: OpaquePointer?) {
        self.string = X509Support.nameString(name)
        self.der = X509Support.nameDER(name)
    }

    /// Parses an RFC 4514 string ("CN=gw1,O=Example,C=CH"; first RDN is the most specific) or an
    /// OpenSSL-style one ("/C=CH/O=Example/CN=gw1", in DER order). Backslash escapes a character.
    public init(parsing text: String) throws {
        let name = try Self.makeName(text)
        defer { X509_NAME_free(name) }
        self.init(name)
    }

    /// Builds an X509_NAME (caller frees).
    static func makeName(_ text: String) throws -> OpaquePointer {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw CryptoError(.invalidArgument, "empty distinguished name") }
        var parts: [String]
        if trimmed.hasPrefix("/") {
            parts = split(String(trimmed.dropFirst()), on: "/")
        } else {
            parts = split(trimmed, on: ",").reversed()
        }
        parts = parts.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        guard let name = X509_NAME_new() else { throw OpenSSL.error(.library, "X509_NAME_new") }
        for part in parts {
            guard let eq = part.firstIndex(of: "=") else {
                X509_NAME_free(name)
                throw CryptoError(.invalidArgument, "distinguished name component '\(part)' lacks '='")
            }
            let key = String(part[..<eq]).trimmingSpaces
            let value = unescape(String(part[part.index(after: eq)...]).trimmingSpaces)
            let field = key.uppercased() == "E" ? "emailAddress" : key
            guard !value.isEmpty,
                  X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, value, -1, -1, 0) == 1 else {
                X509_NAME_free(name)
                OpenSSL.clearErrors()
                throw CryptoError(.invalidArgument, "distinguished name component '\(part)' is not valid (unknown attribute or bad value)")
            }
        }
        return name
    }

    private static func split(_ s: String, on sep: Character) -> [String] {
        var out: [String] = []
        var cur = ""
        var escaped = false
        for c in s {
            if escaped { cur.append("\\"); cur.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == sep { out.append(cur); cur = ""; continue }
            cur.append(c)
        }
        out.append(cur)
        return out
    }

    private static func unescape(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

/// One subjectAltName entry (RFC 5280 §4.2.1.6).
public enum SubjectAltName: Sendable, Hashable, CustomStringConvertible {
    case dns(String)
    /// 4 or 16 bytes, network order.
    case ipAddress([UInt8])
    case email(String)
    case uri(String)
    case directoryName(DistinguishedName)
    /// A GeneralName type Viaduct does not interpret (otherName, x400Address, ...).
    case other(type: Int)

    public var description: String {
        switch self {
        case .dns(let s): "DNS:\(s)"
        case .ipAddress(let b): "IP:\(IPAddressText.format(b))"
        case .email(let s): "email:\(s)"
        case .uri(let s): "URI:\(s)"
        case .directoryName(let dn): "DirName:\(dn)"
        case .other(let t): "othername(type \(t))"
        }
    }
}

/// keyUsage bits (RFC 5280 §4.2.1.3), with OpenSSL's KU_* values.
public struct KeyUsage: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let digitalSignature = KeyUsage(rawValue: 0x0080)
    public static let nonRepudiation = KeyUsage(rawValue: 0x0040)
    public static let keyEncipherment = KeyUsage(rawValue: 0x0020)
    public static let dataEncipherment = KeyUsage(rawValue: 0x0010)
    public static let keyAgreement = KeyUsage(rawValue: 0x0008)
    public static let keyCertSign = KeyUsage(rawValue: 0x0004)
    public static let cRLSign = KeyUsage(rawValue: 0x0002)
    public static let encipherOnly = KeyUsage(rawValue: 0x0001)
    public static let decipherOnly = KeyUsage(rawValue: 0x8000)

    static let names: [(KeyUsage, String)] = [
        (.digitalSignature, "digitalSignature"), (.nonRepudiation, "nonRepudiation"),
        (.keyEncipherment, "keyEncipherment"), (.dataEncipherment, "dataEncipherment"),
        (.keyAgreement, "keyAgreement"), (.keyCertSign, "keyCertSign"), (.cRLSign, "cRLSign"),
        (.encipherOnly, "encipherOnly"), (.decipherOnly, "decipherOnly"),
    ]

    public var description: String { Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ", ") }
}

/// extendedKeyUsage OIDs IKE cares about (RFC 5280 §4.2.1.12, RFC 4945 §5.1.3.12).
public enum ExtendedKeyUsage {
    public static let serverAuth = "1.3.6.1.5.5.7.3.1"
    public static let clientAuth = "1.3.6.1.5.5.7.3.2"
    /// id-kp-ipsecIKE, RFC 4945 §5.1.3.12.
    public static let ipsecIKE = "1.3.6.1.5.5.7.3.17"
    public static let any = "2.5.29.37.0"

    static func name(_ oid: String) -> String {
        switch oid {
        case serverAuth: "serverAuth"
        case clientAuth: "clientAuth"
        case ipsecIKE: "ipsecIKE"
        case any: "anyExtendedKeyUsage"
        case "1.3.6.1.5.5.7.3.4": "emailProtection"
        case "1.3.6.1.5.5.7.3.3": "codeSigning"
        case "1.3.6.1.5.5.7.3.8": "timeStamping"
        case "1.3.6.1.5.5.7.3.9": "OCSPSigning"
        default: oid
        }
    }
}

/// A parsed X.509 certificate. A value: it keeps the DER and the fields Viaduct needs, extracted
/// once at parse time (so a certificate that cannot be fully read is rejected up front, not in
/// the middle of an IKE exchange), and the parsed OpenSSL object for chain verification, so
/// validating a chain never re-decodes the certificates (OpenSSL 3's decoders made that the
/// largest cost of a handshake). Equality and hashing are on the DER.
public struct Certificate: Sendable, Hashable, CustomStringConvertible {
    public let derBytes: [UInt8]
    public let subject: DistinguishedName
    public let issuer: DistinguishedName
    /// Serial number, big-endian magnitude.
    public let serialNumber: [UInt8]
    /// Validity, seconds since the epoch (UTC).
    public let notBefore: Int64
    public let notAfter: Int64
    public let subjectAltNames: [SubjectAltName]
    /// nil when the certificate has no keyUsage extension.
    public let keyUsage: KeyUsage?
    /// Dotted OIDs; nil when the certificate has no extendedKeyUsage extension.
    public let extendedKeyUsage: [String]?
    /// basicConstraints cA.
    public let isCA: Bool
    public let publicKey: PublicKey
    let object: OpenSSLObject

    /// Parses one DER certificate. Trailing bytes, unreadable fields, invalid extensions
    /// (OpenSSL's EXFLAG_INVALID, e.g. duplicated or undecodable ones) and unsupported key
    /// types are errors.
    public init(derEncoded der: [UInt8]) throws {
        let x = try X509Support.d2i(der, "certificate") { p, n in d2i_X509(nil, p, n) }
        defer { X509_free(x) }
        try self.init(x509: x, der: der)
    }

    /// Parses a PEM or DER certificate (auto-detected); for PEM, the first certificate.
    public init(bytes: [UInt8]) throws {
        if Self.looksLikePEM(bytes) {
            let all = try Self.parseAll(pem: bytes)
            guard let first = all.first else { throw CryptoError(.malformed, "no certificate in PEM input") }
            self = first
        } else {
            try self.init(derEncoded: bytes)
        }
    }

    /// Every certificate in a PEM bundle ("CERTIFICATE" blocks), in file order.
    public static func parseAll(pem: [UInt8]) throws -> [Certificate] {
        try X509Support.withReadBIO(pem) { bio in
            var out: [Certificate] = []
            while true {
                guard let x = PEM_read_bio_X509(bio, nil, nil, nil) else {
                    let e = ERR_peek_last_error()
                    OpenSSL.clearErrors()
                    // End of input is PEM_R_NO_START_LINE once at least one block was read.
                    if !out.isEmpty && ERR_GET_REASON(e) == PEM_R_NO_START_LINE { break }
                    throw CryptoError(.malformed, out.isEmpty ? "no valid PEM certificate found" : "PEM certificate #\(out.count + 1) is malformed")
                }
                defer { X509_free(x) }
                guard let der = X509Support.der({ i2d_X509(x, $0) }) else { throw OpenSSL.error(.malformed, "re-encoding certificate") }
                out.append(try Certificate(x509: x, der: der))
            }
            return out
        }
    }

    /// Loads a PEM or DER file.
    public static func load(path: String) throws -> [Certificate] {
        let bytes = try PKIFiles.read(path)
        do {
            return looksLikePEM(bytes) ? try parseAll(pem: bytes) : [try Certificate(derEncoded: bytes)]
        } catch let e as CryptoError {
            throw CryptoError(e.code, "\(path): \(e.message)")
        }
    }

    static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN".utf8)
        guard bytes.count >= marker.count else { return false }
        for i in 0...(bytes.count - marker.count) where bytes[i] == 0x2D && Array(bytes[i..<(i + marker.count)]) == marker {
            return true
        }
        return false
    }

    /// Takes a new reference to `x`; the caller keeps (and frees) its own.
    init(x509 x: OpaquePointer, der: [UInt8]) throws {
        self.derBytes = der
        guard X509_up_ref(x) == 1 else { throw OpenSSL.error(.library, "X509_up_ref") }
        self.object = OpenSSLObject(owning: x, kind: .x509)
        let flags = X509_get_extension_flags(x)
        guard flags & UInt32(EXFLAG_INVALID) == 0 else {
            OpenSSL.clearErrors()
            throw CryptoError(.malformed, "certificate has invalid or duplicated extensions")
        }
        guard let subj = X509_get_subject_name(x), let iss = X509_get_issuer_name(x) else {
            throw CryptoError(.malformed, "certificate lacks subject or issuer")
        }
        self.subject = DistinguishedName(subj)
        self.issuer = DistinguishedName(iss)
        self.serialNumber = X509Support.bytes(X509_get0_serialNumber(x))
        guard let nb = X509Support.epoch(X509_get0_notBefore(x)), let na = X509Support.epoch(X509_get0_notAfter(x)) else {
            OpenSSL.clearErrors()
            throw CryptoError(.malformed, "certificate '\(subject)' has an unreadable validity period")
        }
        self.notBefore = nb
        self.notAfter = na
        self.subjectAltNames = try Self.readSANs(x)
        self.keyUsage = flags & UInt32(EXFLAG_KUSAGE) != 0 ? KeyUsage(rawValue: X509_get_key_usage(x)) : nil
        self.extendedKeyUsage = try Self.readEKU(x)
        self.isCA = X509_check_ca(x) != 0 && flags & UInt32(EXFLAG_CA) != 0
        guard let pubkey = X509_get0_pubkey(x) else {
            OpenSSL.clearErrors()
            throw CryptoError(.unsupportedAlgorithm, "certificate '\(subject)': unreadable or unsupported public key")
        }
        do {
            // The SubjectPublicKeyInfo as it stands in the certificate (RFC 5280 §4.1.2.7),
            // re-encoded from the parsed structure rather than from the key.
            if let spki = X509Support.der({ i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), $0) }) {
                self.publicKey = try PublicKey(subjectPublicKeyInfo: spki, pkey: pubkey)
            } else {
                self.publicKey = try PublicKey(pkey: pubkey)
            }
        } catch let e as CryptoError {
            throw CryptoError(e.code, "certificate '\(subject)': \(e.message)")
        }
        OpenSSL.clearErrors()
    }

    private static func readSANs(_ x: OpaquePointer) throws -> [SubjectAltName] {
        var crit: Int32 = 0
        guard let raw = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nil) else {
            // -1: absent. Anything else: present but undecodable.
            if crit == -1 { return [] }
            OpenSSL.clearErrors()
            throw CryptoError(.malformed, "undecodable subjectAltName extension")
        }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        var out: [SubjectAltName] = []
        for i in 0..<viaduct_sk_GENERAL_NAME_num(names) {
            guard let g = viaduct_sk_GENERAL_NAME_value(names, i) else { continue }
            let type = viaduct_general_name_type(g)
            let bytes = X509Support.bytes(viaduct_general_name_string(g))
            switch type {
            case GEN_DNS: out.append(.dns(String(decoding: bytes, as: UTF8.self)))
            case GEN_EMAIL: out.append(.email(String(decoding: bytes, as: UTF8.self)))
            case GEN_URI: out.append(.uri(String(decoding: bytes, as: UTF8.self)))
            case GEN_IPADD:
                guard bytes.count == 4 || bytes.count == 16 else {
                    throw CryptoError(.malformed, "subjectAltName iPAddress of \(bytes.count) bytes")
                }
                out.append(.ipAddress(bytes))
            case GEN_DIRNAME:
                out.append(.directoryName(DistinguishedName(viaduct_general_name_dirname(g))))
            default: out.append(.other(type: Int(type)))
            }
        }
        return out
    }

    private static func readEKU(_ x: OpaquePointer) throws -> [String]? {
        var crit: Int32 = 0
        guard let raw = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, nil) else {
            if crit == -1 { return nil }
            OpenSSL.clearErrors()
            throw CryptoError(.malformed, "undecodable extendedKeyUsage extension")
        }
        let eku = OpaquePointer(raw)
        defer { EXTENDED_KEY_USAGE_free(eku) }
        return (0..<viaduct_sk_ASN1_OBJECT_num(eku)).map { X509Support.oidString(viaduct_sk_ASN1_OBJECT_value(eku, $0)) }
    }

    // MARK: Derived values

    /// RFC 7296 §3.7: SHA-1 of the SubjectPublicKeyInfo, the value CERTREQ payloads carry to
    /// name a trusted CA.
    public var spkiSHA1: [UInt8] { publicKey.sha1 }

    /// SHA-256 over the DER certificate (a fingerprint for logs and `pki show`).
    public var fingerprintSHA256: [UInt8] { X509Support.digest(EVP_sha256(), derBytes) }

    public var isSelfSigned: Bool { subject.der == issuer.der }

    public var serialHex: String { X509Support.hex(serialNumber, separator: ":") }

    public var pem: String { Self.armor(derBytes, label: "CERTIFICATE") }

    /// RFC 7468 PEM armour, 64-column base64.
    static func armor(_ der: [UInt8], label: String) -> String {
        var lines = ["-----BEGIN \(label)-----"]
        let b64 = Base64.encode(der)
        var i = b64.startIndex
        while i < b64.endIndex {
            let j = b64.index(i, offsetBy: 64, limitedBy: b64.endIndex) ?? b64.endIndex
            lines.append(String(b64[i..<j]))
            i = j
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    public var description: String { "Certificate(\(subject), serial \(serialHex))" }

    public static func == (a: Certificate, b: Certificate) -> Bool { a.derBytes == b.derBytes }
    public func hash(into h: inout Hasher) { h.combine(derBytes) }

    /// A new reference to the parsed X509, for OpenSSL structures that hold their own (the
    /// caller frees it).
    func makeX509() -> OpaquePointer { object.retained() }
}

/// PEM armour helper (RFC 7468 §2 uses RFC 4648 base64).
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], table[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(v >> 18 & 63)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Text <-> bytes for IP addresses in SANs and identities.
public enum IPAddressText {
    public static func format(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        if b.count == 16 {
            var buf = [CChar](repeating: 0, count: 64)
            let ok = b.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &buf, socklen_t(buf.count)) }
            if ok != nil { return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        return X509Support.hex(b, separator: ":")
    }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text; nil when `text` is not an address.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        return nil
    }
}
