import Foundation

/// The two faces of a `NodePlan`: a table for people and JSON for programs.
public enum PlanRenderer {
    /// Stable JSON: keys sorted, snake_case, durations in seconds. Documented in docs/plan-json.md.
    public static func json(_ plan: NodePlan) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? e.encode(plan) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public static func table(_ plan: NodePlan) -> String {
        let underlay = plan.underlay == .fixed ? plan.addresses.map(\.description).joined(separator: ", ") : plan.underlay.description
        var out = "node \(plan.node): identity \(plan.identity), underlay \(underlay)"
        if let asn = plan.asn { out += ", AS\(asn)" }
        out += ", data plane \(plan.dataplane.rawValue)\n"
        if !plan.networks.isEmpty { out += "networks: \(plan.networks.map(\.description).joined(separator: ", "))\n" }
        out += "\(plan.tunnels.count) tunnel\(plan.tunnels.count == 1 ? "" : "s")\n"
        guard !plan.tunnels.isEmpty else { return out }
        out += "\n"
        let header = ["INTERFACE", "KIND", "IF_ID", "MTU", "PEER", "ROLE", "INSIDE", "PEER INSIDE", "ROUTING"]
        var rows: [[String]] = []
        for t in plan.tunnels {
            let inside = t.interface.addresses.map { "\($0.local)/\($0.prefixLength)" }
            let peerInside = t.interface.addresses.map(\.peer.description)
            rows.append([t.interface.name, t.interface.kind.rawValue, String(t.interface.ifID), t.interface.mtu.description,
                         t.peer + (t.peerManaged ? "" : " (unmanaged)"), t.ike.role.rawValue,
                         inside.first ?? "-", peerInside.first ?? "-", t.routing.rawValue])
            for i in inside.indices.dropFirst() {
                rows.append(["", "", "", "", "", "", inside[i], peerInside[i], ""])
            }
        }
        out += columns([header] + rows)
        out += "\n"
        for t in plan.tunnels {
            let local = t.ike.localUnderlay == .fixed ? t.ike.localAddress.description : "\(t.ike.localUnderlay) (any \(t.ike.localAddress.family))"
            let peer = t.ike.peerUnderlay == .fixed ? t.ike.peerAddress.description : "\(t.ike.peerUnderlay) (\(t.ike.localAddress.family))"
            out += "\(t.interface.name): IKE \(local) -> \(peer), id \(t.ike.localIdentity) -> \(t.ike.peerIdentity)\n"
            out += "  ike \(t.ike.proposals.map(\.description).joined(separator: ", ")); lifetime \(t.ike.lifetime), \(t.ike.reauthenticate ? "reauthenticate" : "rekey") \(t.ike.rekeyMargin)+\(t.ike.rekeyJitter) early; dpd \(t.ike.dpd.interval) \(t.ike.dpd.action.rawValue)\n"
            out += "  esp \(t.esp.proposals.map(\.description).joined(separator: ", ")); lifetime \(t.esp.lifetime), rekey \(t.esp.rekeyMargin)+\(t.esp.rekeyJitter) early\n"
            if !t.routes.isEmpty {
                out += "  routes: \(t.routes.map(\.destination.description).joined(separator: ", ")) dev \(t.interface.name)\n"
            }
            if let b = t.bgp {
                out += "  bgp: AS\(b.localASN) -> AS\(b.peerASN) via \(b.sessions.map(\.peer.description).joined(separator: ", "))"
                out += b.peerNetworks.isEmpty ? "\n" : "; accept \(b.peerNetworks.map(\.description).joined(separator: ", "))\n"
            }
        }
        return out
    }

    /// Left-aligned columns separated by two spaces, trailing spaces trimmed.
    static func columns(_ rows: [[String]]) -> String {
        guard let n = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: n)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            var line = ""
            for (i, c) in r.enumerated() {
                line += c + (i == r.count - 1 ? "" : String(repeating: " ", count: widths[i] - c.count + 2))
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n") + "\n"
    }
}
