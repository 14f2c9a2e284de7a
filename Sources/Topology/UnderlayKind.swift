/// How a gateway's underlay address is known: `address:` in the topology is a list of IP
/// addresses, the word `dynamic`, or a DNS name.
import NetTypes
public enum UnderlayKind: Hashable, Sendable, Encodable, CustomStringConvertible {
    /// The IP addresses listed under `address:`.
    case fixed
    /// `address: dynamic`: unknown in advance (DHCP, PPPoE, LTE, carrier NAT). The gateway
    /// always initiates; its peers accept it from any source address once its IKE identity and
    /// certificate check out, and reply to wherever it is.
    case dynamic
    /// `address: NAME.example.net`: resolved by the daemon with the system resolver when it
    /// starts, on every re-initiation, after a DPD failure and on `apply`.
    case name(String)

    /// `fixed`, `dynamic`, or the DNS name (a name always has a dot, so it never reads as either word).
    public var description: String {
        switch self {
        case .fixed: "fixed"
        case .dynamic: "dynamic"
        case .name(let n): n
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// A DNS name as `address:` accepts it: a hostname (RFC 1123 labels) of at least two labels
    /// whose last label starts with a letter, so that a mistyped address such as `192.0.2.300`
    /// is an error rather than a name to look up.
    public static func isDNSName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let last = labels.last?.first, last.isASCII, last.isLetter else { return false }
        return Identity.isHostname(text) && !text.contains("_")
    }
}

extension IPAddress {
    /// `0.0.0.0` or `::`: the address of an end whose underlay address is not known from the
    /// topology (`dynamic` or a DNS name). Sockets bound to it take any local address; the
    /// endpoint learns the peer's real address from its datagrams or the resolver.
    public static func unspecified(_ family: Family) -> IPAddress {
        family == .ipv4 ? .v4(0) : .v6(0, 0)
    }

    public var isUnspecified: Bool { self == .v4(0) || self == .v6(0, 0) }
}
