/// A picture of the network as Graphviz DOT (`viaduct graph`): one node per gateway, one node
/// per gateway's site networks, one edge per tunnel. Pure: the caller loads the topology and, for
/// live state, asks the daemons; `dot -Tsvg` renders the text.
///
/// The output is deterministic: gateways sorted by name, tunnels by their pair of names, node
/// ids derived from gateway names (`gw:NAME`, `site:NAME`), every string quoted and escaped.
import NetTypes
public enum TopologyGraph {
    /// What one gateway's daemon says about its tunnel to one peer, reduced to what the picture
    /// shows. `Daemon` builds these from a `NodeStatus`.
    public struct TunnelReport: Hashable, Sendable {
        /// Ordered from worst to best: when both ends report, the worse state is drawn.
        public enum State: Int, Hashable, Sendable, Comparable, CaseIterable {
            /// No IKE SA and this end is not trying.
            case down
            /// Opening the IKE SA, or an IKE SA without a Child SA: no traffic yet.
            case connecting
            /// An IKE SA with at least one Child SA: traffic flows.
            case established

            public static func < (x: State, y: State) -> Bool { x.rawValue < y.rawValue }

            public var word: String {
                switch self {
                case .down: "down"
                case .connecting: "connecting"
                case .established: "established"
                }
            }
        }

        /// The gateway whose daemon reported.
        public var node: String
        public var peer: String
        public var state: State
        /// Why the tunnel carries no traffic, in the daemon's words; nil when it does.
        public var reason: String?

        public init(node: String, peer: String, state: State, reason: String? = nil) {
            self.node = node
            self.peer = peer
            self.state = state
            self.reason = reason
        }
    }

    /// Live state for the picture: the reports of every daemon that answered. A tunnel neither
    /// of whose ends reported is drawn as unknown.
    public struct Status: Hashable, Sendable {
        public var reports: [TunnelReport]
        public init(reports: [TunnelReport] = []) { self.reports = reports }
    }

    /// The longest reason shown on an edge; the tooltip has all of it.
    static let shortReason = 48

    /// The DOT text. `status` nil: the topology alone, tunnels drawn plain. With a status, every
    /// tunnel is colored by its state: established green solid, connecting orange dashed, down
    /// red dashed, unknown (no end reported) grey dotted; a reason is on the edge (shortened)
    /// and in its tooltip.
    public static func dot(topology t: Topology, links: [TunnelLink], status: Status? = nil) -> String {
        var out = "// \(basename(t.file)): gateways, their sites, the tunnels. Render: dot -Tsvg\n"
        out += "graph \(quote("viaduct")) {\n"
        out += "  graph [label=\(quote(basename(t.file) + (status == nil ? "" : " (live)"))), labelloc=t, fontname=\"Helvetica\", fontsize=12];\n"
        out += "  node [fontname=\"Helvetica\", fontsize=10];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"

        let gateways = t.gateways.sorted { $0.name < $1.name }
        let managed = Dictionary(t.gateways.map { ($0.name, $0.managed) }, uniquingKeysWith: { a, _ in a })
        for g in gateways {
            var lines = [g.name]
            lines += g.underlay == .fixed ? g.addresses.map(\.description) : [g.underlay.description]
            if let asn = g.asn { lines.append("AS \(asn)") }
            if g.managed {
                out += "  \(quote(gatewayID(g.name))) [label=\(label(lines)), shape=box, style=\"rounded,filled\", fillcolor=\"#dbe9f6\"];\n"
            } else {
                lines.append("(not run by viaduct)")
                out += "  \(quote(gatewayID(g.name))) [label=\(label(lines)), shape=box, style=\"dashed\"];\n"
            }
            if !g.networks.isEmpty {
                out += "  \(quote(siteID(g.name))) [label=\(label(g.networks.map(\.description))), shape=note, style=filled, fillcolor=\"#f3f3f3\", tooltip=\(quote("networks of \(g.name)"))];\n"
                out += "  \(quote(gatewayID(g.name))) -- \(quote(siteID(g.name))) [color=\"#bbbbbb\", penwidth=3];\n"
            }
        }

        let reports = status.map { Dictionary(grouping: $0.reports, by: { pairKey($0.node, $0.peer) }) }
        for l in links.sorted(by: { ($0.key, $0.ifID) < ($1.key, $1.ifID) }) {
            var lines: [String] = []
            for (end, addresses) in [(l.a, l.inside.map(\.a)), (l.b, l.inside.map(\.b))] {
                var words = [end + ":"]
                if managed[end] ?? true { words.append(l.interfaceName(on: end)) }
                words += addresses.map(\.description)
                lines.append(words.joined(separator: " "))
            }
            lines.append(l.settings.routing.rawValue + ", inside " + l.inside.map(\.prefix.description).joined(separator: ", "))
            var attributes: [String] = []
            var tooltip = lines
            if let reports {
                let (style, stateLine, why) = edgeState(reports[pairKey(l.a, l.b)] ?? [])
                lines.append(stateLine)
                tooltip.append(why ?? stateLine)
                attributes += style
            }
            attributes.insert("label=\(label(lines))", at: 0)
            attributes.append("tooltip=\(label(tooltip))")
            out += "  \(quote(gatewayID(l.a))) -- \(quote(gatewayID(l.b))) [\(attributes.joined(separator: ", "))];\n"
        }
        out += "}\n"
        return out
    }

    /// The edge's style, the state line on it, and the full reason for its tooltip.
    static func edgeState(_ reports: [TunnelReport]) -> (style: [String], line: String, why: String?) {
        // The worse end wins; on a tie, the first gateway by name that gives a reason.
        let sorted = reports.sorted { ($0.state, $0.node) < ($1.state, $1.node) }
        guard let worst = sorted.first else {
            return (["color=\"gray50\"", "fontcolor=\"gray40\"", "style=dotted", "penwidth=2"], "unknown (no status)", nil)
        }
        let reason = sorted.first { $0.state == worst.state && $0.reason != nil } ?? worst
        let style: [String]
        switch worst.state {
        case .established: style = ["color=\"green4\"", "fontcolor=\"green4\"", "style=solid", "penwidth=2"]
        case .connecting: style = ["color=\"orange\"", "fontcolor=\"darkorange3\"", "style=dashed", "penwidth=2"]
        case .down: style = ["color=\"red\"", "fontcolor=\"red3\"", "style=dashed", "penwidth=2"]
        }
        guard let why = reason.reason.map(oneLine), !why.isEmpty, worst.state != .established else {
            return (style, worst.state.word, nil)
        }
        return (style, "\(worst.state.word) (\(reason.node)): \(shortened(why))", "\(worst.state.word) (\(reason.node)): \(why)")
    }

    static func gatewayID(_ name: String) -> String { "gw:" + name }
    static func siteID(_ name: String) -> String { "site:" + name }
    static func pairKey(_ x: String, _ y: String) -> String { x < y ? "\(x)|\(y)" : "\(y)|\(x)" }

    static func basename(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
    }

    /// A label: its lines, each escaped and made one line, joined with DOT's centered line
    /// break, quoted.
    static func label(_ lines: [String]) -> String {
        "\"" + lines.map { escape(oneLine($0)) }.joined(separator: "\\n") + "\""
    }

    /// A DOT quoted string (an id, a plain attribute value). In ids only `\"` is an escape and
    /// in labels `\\` is a backslash: escaping both keeps names distinct and labels literal (no
    /// `\N`, `\G`, `\l` surprises, no quote ending the string early).
    static func quote(_ s: String) -> String {
        "\"" + escape(oneLine(s)) + "\""
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// Line breaks and tabs become single spaces; no blanks at either end.
    static func oneLine(_ s: String) -> String {
        let joined = s.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
        return String(joined.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }

    static func shortened(_ s: String) -> String {
        s.count <= shortReason ? s : String(s.prefix(shortReason - 1)) + "…"
    }
}
