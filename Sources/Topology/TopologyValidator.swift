/// Cross-reference checks over a parsed topology, and the expansion of tunnel groups into
/// links. Everything that can be known without touching the machine is checked here, for every
/// gateway, so `validate` on any host gives the same verdict.
import NetTypes
enum TopologyValidator {
    static func validate(_ t: Topology) -> ([TunnelLink], [Diagnostic]) {
        var diags: [Diagnostic] = []
        func error(_ code: DiagnosticCode, _ loc: SourceLocation, _ msg: String) {
            diags.append(Diagnostic(.error, code, at: loc, msg))
        }
        let byName = Dictionary(t.gateways.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let names = t.gateways.map(\.name)

        if t.gateways.contains(where: \.managed) && t.caCertificates.isEmpty {
            error(.missingKey, SourceLocation(file: t.file, line: 1, column: 1),
                  "the topology has no 'pki: { ca: ... }'; Viaduct needs the CA certificate(s) that sign the gateways' certificates to authenticate peers")
        }

        // Every reference must name a declared gateway; a group with a bad one yields no links.
        var groupRefsOK: [Bool] = []
        for g in t.tunnelGroups {
            var ok = true
            for r in g.members where byName[r.name] == nil {
                let hint = Suggest.closest(to: r.name, in: names).map { "; did you mean '\($0)'?" } ?? ""
                error(.unknownGateway, r.location, "'\(r.name)' is not a gateway declared under 'gateways'\(hint)")
                ok = false
            }
            groupRefsOK.append(ok)
        }

        // Expand groups into links.
        var links: [TunnelLink] = []
        var seenPairs: [String: SourceLocation] = [:]
        for (gi, g) in t.tunnelGroups.enumerated() {
            var pairs: [(GatewayRef, GatewayRef, slot: Int, initiator: String?)] = []
            switch g.shape {
            case .pair(let a, let b, _):
                pairs = [(a, b, 0, g.initiator?.name)]
            case .mesh(let m):
                // Slot of pair (i, j), i < j: j*(j-1)/2 + i. Appending a member adds slots after
                // every existing one, so no existing tunnel's inside prefix ever changes.
                for j in m.indices {
                    for i in 0..<j { pairs.append((m[i], m[j], j * (j - 1) / 2 + i, nil)) }
                }
            case .hub(let h, let spokes):
                for (k, s) in spokes.enumerated() { pairs.append((h, s, k, s.name)) }
            }
            var groupOK = true
            for (a, b, _, _) in pairs where a.name == b.name {
                error(.selfTunnel, b.location, "a tunnel from '\(a.name)' to itself; each tunnel joins two different gateways")
                groupOK = false
            }
            if !groupOK || !groupRefsOK[gi] { continue }

            // Pool capacity, before allocating.
            if case .pair = g.shape {} else {
                for pool in g.pools {
                    let need = pairs.count
                    let have = pool.prefix.subnetCount(length: pool.slotLength)
                    if have < need {
                        error(.insideTooSmall, g.insideLocation ?? g.location,
                              "inside-pool \(pool.prefix) holds \(have) /\(pool.slotLength) tunnel prefixes, but this \(g.shapeName) needs \(need); use a larger pool or a longer inside-prefix-length")
                        groupOK = false
                    }
                }
            }
            if case .pair(_, _, let inside) = g.shape {
                for p in inside where p.length >= p.family.bitCount {
                    error(.insideTooSmall, g.insideLocation ?? g.location,
                          "inside \(p) has room for one address; a tunnel needs two, use a /\(p.family == .ipv4 ? 30 : 126) (or /\(p.family == .ipv4 ? 31 : 127))")
                    groupOK = false
                }
            }
            if !groupOK { continue }

            for (a, b, slot, groupInitiator) in pairs {
                guard let ga = byName[a.name], let gb = byName[b.name] else { continue }
                let key = a.name < b.name ? "\(a.name)|\(b.name)" : "\(b.name)|\(a.name)"
                if let first = seenPairs[key] {
                    error(.duplicateTunnel, b.location, "a second tunnel between '\(a.name)' and '\(b.name)' (the first is at line \(first.line)); Viaduct builds one tunnel per pair of gateways")
                    continue
                }
                seenPairs[key] = a.location
                if !ga.managed && !gb.managed {
                    error(.unmanagedPair, b.location, "'\(a.name)' and '\(b.name)' are both 'managed: false'; Viaduct runs on neither end of this tunnel")
                    continue
                }
                // A dynamic end has no address to be reached at: it must initiate.
                if ga.underlay == .dynamic && gb.underlay == .dynamic {
                    error(.dynamicPair, b.location, "'\(a.name)' and '\(b.name)' are both 'address: dynamic'; neither can be reached, so nobody can initiate this tunnel; give one of them a fixed address or a DNS name")
                    continue
                }
                if let explicit = g.initiator {
                    let other = explicit.name == ga.name ? gb : ga
                    if other.underlay == .dynamic {
                        error(.dynamicInitiator, explicit.location, "initiator '\(explicit.name)' cannot reach '\(other.name)', which is 'address: dynamic'; the dynamic end always initiates, so remove 'initiator:' or name '\(other.name)'")
                        continue
                    }
                }
                // RFC 7296 §2.15: a pre-shared key is for peers that cannot do certificates.
                if case .psk = g.settings.auth, ga.managed, gb.managed, !g.settings.allowPSK {
                    error(.pskBetweenManaged, b.location, "'auth: psk' between '\(a.name)' and '\(b.name)', both run by Viaduct: use certificates (the default), or set 'allow-psk: true' on the tunnel if you must")
                    continue
                }
                var inside: [InsideAssignment] = []
                switch g.shape {
                case .pair(_, _, let prefixes):
                    inside = prefixes.compactMap(InsideAssignment.init(prefix:))
                default:
                    inside = g.pools.compactMap { pool in
                        pool.prefix.subnet(slot, length: pool.slotLength).flatMap(InsideAssignment.init(prefix:))
                    }
                }
                // Who initiates, identically on both ends: an explicit choice; else a hub's
                // spoke (spokes are the ones behind NAT); else the managed end when the peer is
                // not Viaduct; else the smaller name. Both ends never initiate by design. A
                // dynamic end comes first: nobody else can reach it.
                let initiator: String
                if ga.underlay == .dynamic || gb.underlay == .dynamic {
                    initiator = ga.underlay == .dynamic ? ga.name : gb.name
                } else if let explicit = groupInitiator, byName[explicit]?.managed == true || g.initiator != nil {
                    initiator = explicit
                } else if !ga.managed {
                    initiator = gb.name
                } else if !gb.managed {
                    initiator = ga.name
                } else {
                    initiator = min(ga.name, gb.name)
                }
                links.append(TunnelLink(a: ga.name, b: gb.name, inside: inside, initiator: initiator,
                                        ifID: g.ifID ?? TunnelLink.derivedIfID(pairKey: key),
                                        settings: g.settings, interfaceNames: g.interfaceNames, group: gi,
                                        location: b.location))
            }
        }

        checkInsideRanges(t, links: links, error: error)
        checkLinks(t, links: links, byName: byName, error: error)
        var linksByNode: [String: [TunnelLink]] = [:]
        for l in links {
            linksByNode[l.a, default: []].append(l)
            linksByNode[l.b, default: []].append(l)
        }
        for g in t.gateways where g.managed {
            checkNode(g, links: linksByNode[g.name] ?? [], byName: byName, error: error)
        }
        diags += unsupportedProposals(links, t, byName)
        return (links, diags)
    }

    /// Inside ranges must not overlap one another, any site network, or an underlay address.
    static func checkInsideRanges(_ t: Topology, links: [TunnelLink],
                                  error: (DiagnosticCode, SourceLocation, String) -> Void) {
        var ranges: [(IPPrefix, SourceLocation)] = []
        for g in t.tunnelGroups {
            let loc = g.insideLocation ?? g.location
            switch g.shape {
            case .pair(_, _, let inside): ranges += inside.map { ($0, loc) }
            default: ranges += g.pools.map { ($0.prefix, loc) }
            }
        }
        for i in ranges.indices {
            let (p, loc) = ranges[i]
            for j in 0..<i where ranges[j].0.overlaps(p) {
                error(.insideOverlap, loc, "inside range \(p) overlaps \(ranges[j].0) of the tunnel at line \(ranges[j].1.line); every tunnel needs its own inside range")
            }
            for gw in t.gateways {
                if let n = gw.networks.first(where: { $0.overlaps(p) }) {
                    error(.insideCollision, loc, "inside range \(p) overlaps \(n), a network of gateway '\(gw.name)'; inside addresses must not collide with site networks")
                }
                if let a = gw.addresses.first(where: { p.contains($0) }) {
                    error(.insideCollision, loc, "inside range \(p) contains \(a), the underlay address of gateway '\(gw.name)'")
                }
            }
        }
    }

    static func checkLinks(_ t: Topology, links: [TunnelLink], byName: [String: Gateway],
                           error: (DiagnosticCode, SourceLocation, String) -> Void) {
        for l in links {
            guard let ga = byName[l.a], let gb = byName[l.b] else { continue }
            if UnderlayPath.select(local: ga, peer: gb) == nil {
                error(.addressFamily, l.location, "'\(l.a)' (\(families(ga))) and '\(l.b)' (\(families(gb))) share no underlay address family, so they cannot reach each other")
            }
            if l.settings.routing == .bgp {
                for g in [ga, gb] where g.asn == nil {
                    error(.missingASN, l.location, "the tunnel between '\(l.a)' and '\(l.b)' uses 'routing: bgp', but gateway '\(g.name)' has no 'asn'")
                }
            }
            // RFC 8200 §5. With `mtu: auto` the daemon checks the computed MTU when it sets it.
            if case .fixed(let mtu) = l.settings.mtu, mtu < 1280, l.inside.contains(where: { $0.prefix.family == .ipv6 }) {
                error(.invalidValue, l.location, "the tunnel between '\(l.a)' and '\(l.b)' carries IPv6 inside, which needs an MTU of at least 1280 (RFC 8200); it has \(mtu)")
            }
            // A fixed MSS larger than a fixed MTU allows would not clamp anything.
            if case .fixed(let mtu) = l.settings.mtu, case .fixed(let mss) = l.settings.mssClamp, mss > mtu - 40 {
                error(.invalidValue, l.location, "the tunnel between '\(l.a)' and '\(l.b)' has mss-clamp \(mss), more than its MTU \(mtu) leaves for TCP over IPv4 (\(mtu - 40)); lower mss-clamp or use 'mss-clamp: auto'")
            }
        }
    }

    static func families(_ g: Gateway) -> String {
        if g.underlay != .fixed { return "address \(g.underlay)" }
        return Set(g.addresses.map(\.family)).sorted { $0.rawValue < $1.rawValue }.map(\.description).joined(separator: " and ")
    }

    /// Per-node uniqueness: interface names, if_ids, and static routes.
    static func checkNode(_ node: Gateway, links: [TunnelLink], byName: [String: Gateway],
                          error: (DiagnosticCode, SourceLocation, String) -> Void) {
        var ifNames: [String: TunnelLink] = [:]
        var ifIDs: [UInt32: TunnelLink] = [:]
        var routes: [(IPPrefix, String)] = node.networks.map { ($0, "its own networks") }
        for l in links {
            let peer = l.peer(of: node.name)
            let name = l.interfaceNames[node.name] ?? InterfaceNaming.name(forPeer: peer)
            if let other = ifNames[name] {
                error(.interfaceClash, l.location, "on gateway '\(node.name)', the tunnels to '\(other.peer(of: node.name))' and '\(peer)' would both use interface '\(name)'; set 'interface:' on one of them")
            } else { ifNames[name] = l }
            if let other = ifIDs[l.ifID] {
                error(.ifIDClash, l.location, "on gateway '\(node.name)', the tunnels to '\(other.peer(of: node.name))' and '\(peer)' have the same if_id \(l.ifID); set 'if-id:' on one of them")
            } else { ifIDs[l.ifID] = l }
            if l.settings.routing == .static, let pg = byName[peer] {
                for n in pg.networks {
                    if let clash = routes.first(where: { $0.0.overlaps(n) }) {
                        error(.routeConflict, l.location, "on gateway '\(node.name)', the static route to \(n) via '\(peer)' overlaps \(clash.0) (\(clash.1)); traffic would be ambiguous")
                    }
                    routes.append((n, "via '\(peer)'"))
                }
            }
        }
    }

    /// A tunnel whose ESP proposals hold nothing a managed end's data plane can carry could only
    /// be negotiated into an SA that carries no traffic; the daemon would refuse every proposal
    /// (NO_PROPOSAL_CHOSEN). `userspace` makes that an error; `auto`, which falls back to
    /// userspace on a kernel without ESP, a warning.
    static func unsupportedProposals(_ links: [TunnelLink], _ t: Topology, _ byName: [String: Gateway]) -> [Diagnostic] {
        var diags: [Diagnostic] = []
        for link in links {
            for end in [link.a, link.b] {
                guard let gw = byName[end], gw.managed else { continue }
                let kind = gw.dataplane ?? t.defaultDataplane
                let check: DataplaneKind = kind == .auto ? .userspace : kind
                let proposals = link.settings.esp.proposals
                let results = proposals.map { check.carried($0) }
                guard !results.contains(where: { $0.kept != nil }) else { continue }
                let why = results.flatMap(\.dropped).first ?? "no ESP proposal"
                let list = proposals.map(\.description).joined(separator: ", ")
                if kind == .auto {
                    diags.append(Diagnostic(.warning, .unsupportedProposal, at: link.location,
                        "tunnel \(link.a) <-> \(link.b): esp.proposals [\(list)] hold nothing the userspace data plane can carry (\(why)); if \(end) falls back to it (dataplane: auto on a kernel without ESP) the tunnel cannot be negotiated; add e.g. aes256gcm16-x25519"))
                } else {
                    diags.append(Diagnostic(.error, .unsupportedProposal, at: link.location,
                        "tunnel \(link.a) <-> \(link.b): esp.proposals [\(list)] hold nothing \(end)'s \(kind.rawValue) data plane can carry (\(why)); add e.g. aes256gcm16-x25519 or aes256-sha256"))
                }
            }
        }
        return diags
    }
}

extension TunnelGroup {
    var shapeName: String {
        switch shape {
        case .pair: "tunnel"
        case .mesh(let m): "mesh of \(m.count) gateways"
        case .hub(_, let s): "hub with \(s.count) spokes"
        }
    }

}
