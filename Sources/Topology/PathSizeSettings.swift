/// `mtu:` of a tunnel: `auto` (the default) derives the interface MTU from the underlay path MTU
/// and the overhead of the negotiated ESP transform whenever a Child SA is installed (the daemon
/// does that, `TunnelMTUCalculation`); a number fixes it.
public enum TunnelMTU: Hashable, Sendable, Encodable, CustomStringConvertible {
    case auto
    case fixed(Int)

    /// What a tunnel interface with `mtu: auto` is created with, before its first Child SA tells
    /// the transform and the path: the fixed default of earlier versions.
    public static let provisional = 1400
    /// The accepted range of a fixed MTU.
    public static let range = 576...9000

    /// The MTU the interface is created with: the fixed value, or `provisional`.
    public var initial: Int {
        switch self {
        case .auto: Self.provisional
        case .fixed(let m): m
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .fixed(let m): String(m)
        }
    }

    /// JSON: the string "auto" or the number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .fixed(let m): try c.encode(m)
        }
    }
}

/// `mss-clamp:` of a tunnel: TCP SYN and SYN-ACK through the tunnel get their MSS option
/// lowered to what fits the tunnel MTU (`auto`, the default), to a fixed value, or not at all.
public enum MSSClamp: Hashable, Sendable, Encodable, CustomStringConvertible {
    case auto
    case off
    case fixed(Int)

    /// RFC 9293 §3.7.1: 536 is the IPv4 default MSS every host accepts; 8960 fits a 9000 MTU.
    public static let range = 536...8960

    public var description: String {
        switch self {
        case .auto: "auto"
        case .off: "off"
        case .fixed(let m): String(m)
        }
    }

    /// JSON: the string "auto" or "off", or the number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .off: try c.encode("off")
        case .fixed(let m): try c.encode(m)
        }
    }
}

/// `ike.fragment-size:`: the largest IP datagram of an RFC 7383 IKE fragment. A number (the
/// default 1280) fixes it; `auto` takes the underlay path MTU to the peer when the IKE SA starts.
public enum IKEFragmentSize: Hashable, Sendable, Encodable, CustomStringConvertible {
    case auto
    case fixed(Int)

    /// RFC 7383 §2.5.1: at least the IPv4 minimum of 576 octets.
    public static let range = 576...9000
    /// Used for `auto` while the path MTU is unknown: every IPv6 path carries it (RFC 8200 §5).
    public static let fallback = 1280

    public var description: String {
        switch self {
        case .auto: "auto"
        case .fixed(let m): String(m)
        }
    }

    /// The datagram size given the underlay path MTU (nil when it could not be read).
    public func size(pathMTU: Int?) -> Int {
        switch self {
        case .fixed(let m): m
        case .auto: pathMTU.map { min(max($0, Self.range.lowerBound), Self.range.upperBound) } ?? Self.fallback
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .fixed(let m): try c.encode(m)
        }
    }
}
