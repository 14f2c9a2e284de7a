import Foundation
import NetTypes

/// An IKE identity (RFC 7296 §3.5) as written in a topology. The type is inferred from the text
/// the way strongSwan does: an address is an IP identity, `user@host` an RFC 822 address,
/// `CN=...,O=...` a distinguished name, anything else a fully qualified domain name.
public enum Identity: Hashable, Sendable, CustomStringConvertible, Encodable {
    case ipAddress(IPAddress)
    case fqdn(String)
    case email(String)
    case distinguishedName(String)

    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.utf8.count <= 255 else { return nil }
        if let a = IPAddress(t) {
            self = .ipAddress(a)
        } else if t.contains("=") {
            self = .distinguishedName(t)
        } else if t.contains("@") {
            let parts = t.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, Identity.isHostname(String(parts[1])) else { return nil }
            self = .email(t)
        } else {
            guard Identity.isHostname(t) else { return nil }
            self = .fqdn(t.lowercased())
        }
    }

    static func isHostname(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty, s.utf8.count <= 253 else { return false }
        return labels.allSatisfy { l in
            !l.isEmpty && l.utf8.count <= 63 && l.first != "-" && l.last != "-"
                && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    public var kind: String {
        switch self {
        case .ipAddress(let a): a.family == .ipv4 ? "ipv4" : "ipv6"
        case .fqdn: "fqdn"
        case .email: "email"
        case .distinguishedName: "dn"
        }
    }

    public var description: String {
        switch self {
        case .ipAddress(let a): a.description
        case .fqdn(let s), .email(let s), .distinguishedName(let s): s
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
