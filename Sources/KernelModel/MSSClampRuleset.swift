// nft(8) "TCP OPTIONS" (`tcp option maxseg size set N`) and "SETTING PACKET HEADER FIELDS";
// RFC 9293 §3.7.1 (the MSS option, SYN only); RFC 6691 §2 (MSS = MTU − 40 / − 60).

/// The MSS clamp of one tunnel interface on the kernel data plane.
public struct MSSClampRule: Hashable, Sendable {
    public var interface: String
    public var ipv4: Int
    public var ipv6: Int

    public init(interface: String, ipv4: Int, ipv6: Int) {
        self.interface = interface
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }
}

/// Viaduct's own nftables table, `table inet viaduct`, and nothing else: a forward-hook chain
/// that lowers (never raises) the MSS of TCP SYN and SYN-ACK leaving or entering each tunnel
/// interface. Pure: the nft script text; `Nftables` (KernelDataplane) runs it.
public enum MSSClampRuleset {
    public static let family = "inet"
    public static let table = "viaduct"
    public static let chain = "mss_clamp"

    /// Replaces the whole table in one nft transaction (`add` makes a missing table exist so the
    /// `delete` cannot fail); with no rules the table is removed. Interface names are checked by
    /// the caller (`Link.checkName`: no quotes, no spaces).
    public static func script(_ rules: [MSSClampRule]) -> String {
        var s = "add table \(family) \(table)\ndelete table \(family) \(table)\n"
        guard !rules.isEmpty else { return s }
        s += "table \(family) \(table) {\n"
        s += "  chain \(chain) {\n"
        s += "    type filter hook forward priority mangle; policy accept;\n"
        for r in rules.sorted(by: { $0.interface < $1.interface }) {
            for direction in ["oifname", "iifname"] {
                s += "    meta nfproto ipv4 \(direction) \"\(r.interface)\" tcp flags syn / syn,rst tcp option maxseg size > \(r.ipv4) tcp option maxseg size set \(r.ipv4)\n"
                s += "    meta nfproto ipv6 \(direction) \"\(r.interface)\" tcp flags syn / syn,rst tcp option maxseg size > \(r.ipv6) tcp option maxseg size set \(r.ipv6)\n"
            }
        }
        s += "  }\n}\n"
        return s
    }

    /// Removes the table (and nothing else), whether or not it exists.
    public static var removal: String { script([]) }
}
