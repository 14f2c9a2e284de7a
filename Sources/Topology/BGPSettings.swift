/// The topology's `bgp:` section: what every generated BGP session gets besides its neighbor
/// (`viaduct bgp`, the lab). BFD (RFC 5880, single hop over the tunnel interface, RFC 5881)
/// detects a dead peer in interval × multiplier instead of the BGP hold time; it is on by
/// default for sessions between two managed gateways, whose BGP daemons Viaduct configures
/// both ends of. A peer Viaduct does not manage (a cloud VPN) may not answer BFD, so its
/// sessions get none.
public struct BGPSettings: Hashable, Sendable {
    /// nil: `bfd: off`.
    public var bfd: BFDTimers? = BFDTimers()
    /// A file holding the sessions' TCP MD5 password (RFC 2385), resolved against the topology
    /// file; read by `viaduct bgp` and the lab, never put in a plan.
    public var passwordFile: String?
    public var location: SourceLocation?

    public init(bfd: BFDTimers? = BFDTimers(), passwordFile: String? = nil, location: SourceLocation? = nil) {
        self.bfd = bfd
        self.passwordFile = passwordFile
        self.location = location
    }
}

/// RFC 5880 §6.8.1/§6.8.4: the transmit and receive interval asked for, and the detection
/// multiplier; a session is down after `intervalMilliseconds × multiplier` without a packet.
public struct BFDTimers: Hashable, Sendable, Encodable {
    public var intervalMilliseconds: Int
    public var multiplier: Int

    public static let intervalRange = 10...10_000
    public static let multiplierRange = 2...255

    public init(intervalMilliseconds: Int = 300, multiplier: Int = 3) {
        self.intervalMilliseconds = intervalMilliseconds
        self.multiplier = multiplier
    }

    public var detectionMilliseconds: Int { intervalMilliseconds * multiplier }

    enum CodingKeys: String, CodingKey {
        case intervalMilliseconds = "interval_ms"
        case multiplier
    }
}
