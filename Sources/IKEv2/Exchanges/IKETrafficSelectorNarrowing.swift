// RFC 7296 §2.9: traffic selector negotiation and narrowing.

/// Intersections of selector lists. The responder answers with the intersection of what the
/// initiator proposed and what it is configured for (narrowing, never widening); the initiator
/// accepts an answer only if every returned selector lies within what it proposed. A route-based
/// tunnel proposes 0.0.0.0/0 and ::/0; a strongSwan peer configured for 0.0.0.0/0 only narrows
/// to IPv4, which is accepted.
enum IKETrafficSelectorNarrowing {
    static func intersect(_ a: IKETrafficSelector, _ b: IKETrafficSelector) -> IKETrafficSelector? {
        switch (a, b) {
        case let (.ipv4(p1, sp1, ep1, s1, e1), .ipv4(p2, sp2, ep2, s2, e2)):
            guard let proto = protocolIntersection(p1, p2), let ports = portIntersection(sp1, ep1, sp2, ep2) else { return nil }
            let s = max(s1, s2), e = min(e1, e2)
            return s <= e ? .ipv4(ipProtocol: proto, startPort: ports.0, endPort: ports.1, start: s, end: e) : nil
        case let (.ipv6(p1, sp1, ep1, s1, e1), .ipv6(p2, sp2, ep2, s2, e2)):
            guard let proto = protocolIntersection(p1, p2), let ports = portIntersection(sp1, ep1, sp2, ep2) else { return nil }
            let s = max(s1, s2), e = min(e1, e2)
            return s <= e ? .ipv6(ipProtocol: proto, startPort: ports.0, endPort: ports.1, start: s, end: e) : nil
        default:
            return nil
        }
    }

    /// Responder narrowing: every non-empty intersection of a proposed selector with a configured one.
    static func narrow(proposed: [IKETrafficSelector], configured: [IKETrafficSelector]) -> [IKETrafficSelector] {
        var out: [IKETrafficSelector] = []
        for p in proposed {
            for c in configured {
                if let i = intersect(p, c), !out.contains(i) { out.append(i) }
            }
        }
        return out
    }

    /// Initiator check: the answer is non-empty and each selector is inside one we proposed.
    static func isNarrowing(_ answer: [IKETrafficSelector], of proposed: [IKETrafficSelector]) -> Bool {
        !answer.isEmpty && answer.allSatisfy { s in proposed.contains { intersect(s, $0) == s } }
    }

    static func describe(_ selectors: [IKETrafficSelector]) -> String {
        selectors.isEmpty ? "nothing" : selectors.map(describe).joined(separator: " ")
    }

    static func describe(_ s: IKETrafficSelector) -> String {
        func suffix(_ proto: UInt8, _ sp: UInt16, _ ep: UInt16) -> String {
            let ports = sp == 0 && ep == 65535 ? "" : sp == ep ? "\(sp)" : "\(sp)-\(ep)"
            if proto == 0 && ports.isEmpty { return "" }
            return "[\(proto)\(ports.isEmpty ? "" : "/" + ports)]"
        }
        switch s {
        case let .ipv4(proto, sp, ep, start, end):
            let range = start.value == 0 && end.value == .max ? "0.0.0.0/0" : start == end ? "\(start)" : "\(start)..\(end)"
            return range + suffix(proto, sp, ep)
        case let .ipv6(proto, sp, ep, start, end):
            let all = start == IKEIPv6Address(high: 0, low: 0) && end == IKEIPv6Address(high: .max, low: .max)
            return (all ? "::/0" : start == end ? "\(start)" : "\(start)..\(end)") + suffix(proto, sp, ep)
        case .unknown(let type, _, _):
            return "TS type \(type)"
        }
    }

    private static func protocolIntersection(_ a: UInt8, _ b: UInt8) -> UInt8? {
        a == 0 ? b : b == 0 || a == b ? a : nil
    }

    private static func portIntersection(_ s1: UInt16, _ e1: UInt16, _ s2: UInt16, _ e2: UInt16) -> (UInt16, UInt16)? {
        let s = max(s1, s2), e = min(e1, e2)
        return s <= e ? (s, e) : nil
    }
}
