/// Derives a `NodePlan` for one gateway. File checks go through `fileExists` so the core
/// stays free of I/O and tests can decide which files "exist".
public enum NodePlanner {
    public static func plan(_ t: Topology, links: [TunnelLink], node: String,
                            fileExists: (String) -> Bool) -> Result<NodePlan, DiagnosticError> {
        let top = SourceLocation(file: t.file, line: 0, column: 0)
        guard let gw = t.gateway(named: node) else {
            let hint = Suggest.closest(to: node, in: t.gateways.map(\.name)).map { "; did you mean '\($0)'?" }
                ?? "; the gateways are: \(t.gateways.map(\.name).joined(separator: ", "))"
            return .failure(DiagnosticError([Diagnostic(.error, .unknownNode, at: top, "no gateway named '\(node)' in the topology\(hint)")]))
        }
        guard gw.managed, let cert = gw.certificate, let key = gw.key else {
            return .failure(DiagnosticError([Diagnostic(.error, .unmanagedNode, at: gw.location,
                                        "gateway '\(node)' is 'managed: false'; Viaduct does not run there, so it has no plan")]))
        }
        var diags: [Diagnostic] = []
        var files: [(String, String, SourceLocation)] = [
            (cert, "certificate of '\(node)'", gw.certificateLocation ?? gw.location),
            (key, "private key of '\(node)'", gw.keyLocation ?? gw.location),
        ]
        files += t.caCertificates.map { ($0, "CA certificate", t.pkiLocations[$0] ?? top) }
        files += t.crls.map { ($0, "CRL", t.pkiLocations[$0] ?? top) }
        for l in links where l.a == node || l.b == node {
            if case .psk(let file) = l.settings.auth { files.append((file, "pre-shared key file of the tunnel to '\(l.peer(of: node))'", l.location)) }
        }
        for (path, what, loc) in files where !fileExists(t.resolve(path)) {
            diags.append(Diagnostic(.error, .missingFile, at: loc, "the \(what), '\(t.resolve(path))', does not exist; create it (see 'viaduct pki') or fix the path, which is relative to the topology file"))
        }
        if !diags.isEmpty { return .failure(DiagnosticError(TopologyLoader.sorted(diags))) }

        let byName = Dictionary(t.gateways.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var tunnels: [TunnelPlan] = []
        for l in links where l.a == node || l.b == node {
            let peerName = l.peer(of: node)
            guard let peer = byName[peerName], let path = UnderlayPath.select(local: gw, peer: peer) else { continue }
            let iface = l.interfaceName(on: node)
            let addrs = l.inside.map { ins in
                node == l.a
                    ? InterfaceAddress(local: ins.a, peer: ins.b, prefixLength: ins.prefix.length)
                    : InterfaceAddress(local: ins.b, peer: ins.a, prefixLength: ins.prefix.length)
            }
            let s = l.settings
            let routes = s.routing == .static ? peer.networks.map { RoutePlan(destination: $0, interface: iface) } : []
            var bgp: BGPNeighbor?
            if s.routing == .bgp, let la = gw.asn, let pa = peer.asn {
                bgp = BGPNeighbor(localASN: la, peerASN: pa, sessions: addrs, peerNetworks: peer.networks,
                                  bfd: peer.managed ? t.bgp.bfd : nil,
                                  passwordFile: t.bgp.passwordFile.map(t.resolve))
            }
            var ike = IKEPeerPlan(localAddress: path.local, peerAddress: path.peer, peerAddresses: peer.addresses,
                                  localIdentity: gw.identity, peerIdentity: peer.identity,
                                  role: l.initiator == node ? .initiator : .responder,
                                  proposals: s.ike.proposals, lifetime: s.ike.lifetime,
                                  rekeyMargin: s.ike.rekeyMargin, rekeyJitter: s.ike.rekeyJitter, dpd: s.dpd)
            ike.localUnderlay = gw.underlay
            ike.peerUnderlay = peer.underlay
            ike.natKeepalive = s.natKeepalive
            ike.fragmentation = s.fragmentation
            ike.fragmentSize = s.fragmentSize
            ike.reauthenticate = s.reauthenticate
            if case .psk(let file) = s.auth { ike.auth = .psk(file: t.resolve(file)) }
            var interface = InterfacePlan(name: iface, kind: gw.interfaceKind ?? t.defaultInterfaceKind,
                                          ifID: l.ifID, mtu: s.mtu, addresses: addrs)
            interface.mssClamp = s.mssClamp
            tunnels.append(TunnelPlan(
                peer: peerName, peerManaged: peer.managed,
                interface: interface,
                routing: s.routing, routes: routes, ike: ike, esp: s.esp, bgp: bgp))
        }
        tunnels.sort { $0.interface.name < $1.interface.name }
        return .success(NodePlan(
            node: node, identity: gw.identity, addresses: gw.addresses, underlay: gw.underlay, certificate: t.resolve(cert),
            key: t.resolve(key), caCertificates: t.caCertificates.map(t.resolve), crls: t.crls.map(t.resolve),
            asn: gw.asn, networks: gw.networks, dataplane: gw.dataplane ?? t.defaultDataplane,
            tunnels: tunnels))
    }
}
