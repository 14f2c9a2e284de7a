/// One tunnel between two gateways, resolved from a `TunnelGroup`: who the ends are, their
/// inside addresses, who initiates and the interface ID. Everything here is a function of the
/// topology alone, so both ends compute the same link without talking to each other.
import NetTypes
public struct TunnelLink: Hashable, Sendable {
    /// The first end gets the first inside host address of each prefix.
    public var a: String
    public var b: String
    public var inside: [InsideAssignment]
    public var initiator: String
    /// The XFRM interface `if_id`, or the VTI key, on both ends.
    public var ifID: UInt32
    public var settings: TunnelSettings
    /// Explicit interface names by gateway name (from `interface:`); others are derived.
    public var interfaceNames: [String: String]
    public var group: Int
    public var location: SourceLocation

    public func peer(of node: String) -> String { node == a ? b : a }

    /// The tunnel interface on `node`: its explicit `interface:` name, or the derived one.
    public func interfaceName(on node: String) -> String {
        interfaceNames[node] ?? InterfaceNaming.name(forPeer: peer(of: node))
    }

    /// Equal links describe the same tunnel; where and in which group it was written does not
    /// matter (moving a tunnel within the file must not look like a change to `apply`).
    public static func == (x: TunnelLink, y: TunnelLink) -> Bool {
        x.a == y.a && x.b == y.b && x.inside == y.inside && x.initiator == y.initiator && x.ifID == y.ifID
            && x.settings == y.settings && x.interfaceNames == y.interfaceNames
    }

    public func hash(into h: inout Hasher) {
        h.combine(a)
        h.combine(b)
        h.combine(ifID)
    }

    /// The unordered pair, as a key: "a|b" with the names sorted.
    public var key: String { a < b ? "\(a)|\(b)" : "\(b)|\(a)" }

    /// Convention of this project: `if_id` = the mixed FNV-1a hash of the pair key folded to 31 bits,
    /// never 0 (the kernel treats if_id 0 as "no interface").
    static func derivedIfID(pairKey: String) -> UInt32 {
        let h = StableHash.mixed("viaduct-if-id:" + pairKey)
        let v = UInt32(truncatingIfNeeded: (h >> 32) ^ h) & 0x7fff_ffff
        return v == 0 ? 1 : v
    }
}

/// A tunnel's inside prefix and the address of each end within it.
public struct InsideAssignment: Hashable, Sendable {
    public var prefix: IPPrefix
    public var a: IPAddress
    public var b: IPAddress

    /// First two usable hosts: .1 and .2, except in a /31 or /127 (RFC 3021, RFC 6164) where
    /// both addresses are hosts.
    init?(prefix: IPPrefix) {
        let bits = prefix.family.bitCount - prefix.length
        guard bits >= 1 else { return nil }
        self.prefix = prefix
        if bits == 1 {
            a = prefix.host(0)
            b = prefix.host(1)
        } else {
            a = prefix.host(1)
            b = prefix.host(2)
        }
    }
}
