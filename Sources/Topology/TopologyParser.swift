import Foundation
import NetTypes

/// Turns topology YAML into a `Topology`, reporting every syntax and field error it finds.
/// Cross-references (does this gateway exist, do these ranges overlap) are the validator's job.
enum TopologyParser {
    static let topKeys = ["version", "description", "defaults", "pki", "bgp", "gateways", "tunnels"]
    static let defaultsKeys = ["ike", "esp", "mtu", "mss-clamp", "routing", "dataplane", "interface-kind", "allow-weak-crypto"]
    static let ikeKeys = ["proposals", "lifetime", "rekey-margin", "rekey-jitter", "dpd", "nat-keepalive",
                          "fragmentation", "fragment-size", "reauthenticate"]
    static let espKeys = ["proposals", "lifetime", "rekey-margin", "rekey-jitter"]
    static let dpdKeys = ["interval", "action"]
    static let pkiKeys = ["ca", "crls"]
    static let gatewayKeys = ["address", "identity", "certificate", "key", "asn", "networks", "managed",
                              "dataplane", "interface-kind", "description"]
    static let tunnelKeys = ["between", "mesh", "hub", "spokes", "inside", "inside-pool", "inside-prefix-length",
                             "interface", "initiator", "if-id", "ike", "esp", "mtu", "mss-clamp", "routing",
                             "allow-weak-crypto", "auth", "psk-file", "allow-psk", "description"]

    static func parse(yaml: String, file: String) -> (Topology?, [Diagnostic]) {
        let w = YAMLWalker(file: file)
        let root: YAMLNode
        switch YAMLFrontEnd.compose(yaml) {
        case .success(let r?):
            root = r
        case .success(nil):
            w.error(.missingKey, at: SourceLocation(file: file, line: 1, column: 1),
                    "the file is empty; a topology starts with 'version: 1'")
            return (nil, w.diagnostics)
        case .failure(let error):
            return (nil, [syntaxDiagnostic(error, yaml: yaml, file: file)])
        }
        guard let top = w.mapping(root, "the topology") else { return (nil, w.diagnostics) }
        w.checkKeys(top, allowed: topKeys, in: "the topology")
        func entry(_ key: String, in entries: [YAMLWalker.Entry]) -> YAMLWalker.Entry? {
            entries.first { $0.key == key }
        }

        var version = 1
        if let v = entry("version", in: top) {
            if let text = w.string(v.value, "version") {
                if let n = Int(text) {
                    version = n
                    if n != 1 { w.error(.unsupportedVersion, v.value, "version \(n) is not supported; this Viaduct reads version 1") }
                } else {
                    w.error(.wrongType, v.value, "version must be the number 1, found '\(text)'")
                }
            }
        } else {
            w.error(.missingKey, root, "the topology has no 'version'; add 'version: 1' at the top")
        }
        if let d = entry("description", in: top) { _ = w.string(d.value, "description") }

        var defaults = TunnelSettings.builtIn
        var dataplane = DataplaneKind.auto
        var interfaceKind = InterfaceKind.xfrm
        if let d = entry("defaults", in: top), let entries = w.mapping(d.value, "defaults") {
            w.checkKeys(entries, allowed: defaultsKeys, in: "defaults")
            defaults = settings(entries, base: defaults, w: w, what: "defaults")
            if let e = entry("dataplane", in: entries), let v = w.choice(e.value, "defaults.dataplane", DataplaneKind.self) { dataplane = v }
            if let e = entry("interface-kind", in: entries), let v = w.choice(e.value, "defaults.interface-kind", InterfaceKind.self) { interfaceKind = v }
        }

        var cas: [String] = [], crls: [String] = []
        var pkiLocations: [String: SourceLocation] = [:]
        if let p = entry("pki", in: top), let entries = w.mapping(p.value, "pki") {
            w.checkKeys(entries, allowed: pkiKeys, in: "pki")
            for (key, isCA) in [("ca", true), ("crls", false)] {
                guard let e = entry(key, in: entries), let items = w.list(e.value, "pki.\(key)", single: true) else { continue }
                for item in items {
                    guard let path = w.string(item, "pki.\(key)") else { continue }
                    if isCA { cas.append(path) } else { crls.append(path) }
                    pkiLocations[path] = w.location(item)
                }
            }
        }

        var gateways: [Gateway] = []
        if let g = entry("gateways", in: top) {
            if let entries = w.mapping(g.value, "gateways") {
                for e in entries {
                    if let gw = gateway(e, w: w) { gateways.append(gw) }
                }
            }
        } else {
            w.error(.missingKey, root, "the topology has no 'gateways'; declare at least two sites")
        }

        var groups: [TunnelGroup] = []
        if let t = entry("tunnels", in: top) {
            if let items = w.list(t.value, "tunnels") {
                for item in items {
                    if let g = tunnelGroup(item, defaults: defaults, w: w) { groups.append(g) }
                }
            }
        } else {
            w.error(.missingKey, root, "the topology has no 'tunnels'; add a list of 'between', 'mesh' or 'hub' entries")
        }

        if w.exhausted {
            // Past the budget, other findings are noise from a truncated walk.
            return (nil, w.diagnostics.filter { $0.code == .tooComplex })
        }
        let topology = Topology(file: file, version: version, defaults: defaults, defaultDataplane: dataplane,
                                defaultInterfaceKind: interfaceKind, caCertificates: cas, crls: crls,
                                pkiLocations: pkiLocations, gateways: gateways, tunnelGroups: groups)
        var result = topology
        if let b = entry("bgp", in: top) { result.bgp = bgpSettings(b.value, w: w) }
        return (result, w.diagnostics)
    }

    /// libyaml's own words, located, with a hint for the mistakes people actually make.
    static func syntaxDiagnostic(_ error: YAMLError, yaml: String, file: String) -> Diagnostic {
        func at(_ mark: YAMLMark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .syntax(let problem, let context, let contextMark, let mark):
            var message = "invalid YAML: \(problem)"
            if let context, let contextMark { message += " (\(context) at line \(contextMark.line))" }
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            if mark.line >= 1, mark.line <= lines.count, lines[mark.line - 1].contains("\t") {
                message += "; YAML indentation must use spaces, not tabs"
            } else if problem.contains("mapping values are not allowed") {
                message += "; is a ':' missing a space after it, or is the indentation off?"
            } else if problem.contains("did not find expected key") || problem.contains("did not find expected '-'") {
                message += "; check that the indentation of this line matches its siblings"
            }
            return Diagnostic(.error, .yamlSyntax, at: at(mark), message)
        case .duplicateKeys(let keys, let mark):
            let list = keys.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(.error, .duplicateKey, at: at(mark),
                              "key \(list) appears more than once in the same mapping; each key may appear once")
        case .reader(let problem, _, _, let mark):
            return Diagnostic(.error, .unreadable, at: at(mark), "cannot read the file: \(problem)")
        case .tooDeep(let limit, let mark):
            return Diagnostic(.error, .tooComplex, at: at(mark),
                              "the document nests more than \(limit) levels deep (counting what aliases bring in); a topology needs a handful")
        case .tooLarge(let bytes, let limit):
            return Diagnostic(.error, .unreadable, at: SourceLocation(file: file, line: 0, column: 0),
                              "the text is \(bytes) bytes; topologies larger than \(limit) bytes are refused")
        case .memory:
            return Diagnostic(.error, .unreadable, at: SourceLocation(file: file, line: 0, column: 0),
                              "libyaml ran out of memory")
        }
    }

    // MARK: - Settings (defaults and per-tunnel overrides)

    static func settings(_ entries: [YAMLWalker.Entry], base: TunnelSettings, w: YAMLWalker, what: String) -> TunnelSettings {
        var s = base
        func value(_ key: String) -> YAMLNode? { entries.first { $0.key == key }?.value }
        if let n = value("allow-weak-crypto"), let b = w.bool(n, "\(what).allow-weak-crypto") { s.allowWeakCrypto = b }
        if let n = value("mtu"), let m = w.tunnelMTU(n, "\(what).mtu") { s.mtu = m }
        if let n = value("mss-clamp"), let c = w.mssClamp(n, "\(what).mss-clamp") { s.mssClamp = c }
        if let n = value("routing"), let r = w.choice(n, "\(what).routing", RoutingMode.self) { s.routing = r }
        if let n = value("ike"), let e = w.mapping(n, "\(what).ike") {
            w.checkKeys(e, allowed: ikeKeys, in: "\(what).ike")
            s.ike = saSettings(e, node: n, base: s.ike, kind: .ike, allowWeak: s.allowWeakCrypto, w: w, what: "\(what).ike")
            if let d = e.first(where: { $0.key == "dpd" }) {
                s.dpd = dpd(d.value, base: s.dpd, w: w, what: "\(what).ike.dpd")
            }
            // RFC 3948 §4 keepalives and RFC 7383 fragmentation.
            if let n = e.first(where: { $0.key == "nat-keepalive" })?.value, let d = w.duration(n, "\(what).ike.nat-keepalive") {
                s.natKeepalive = d
            }
            if let n = e.first(where: { $0.key == "fragmentation" })?.value, let b = w.bool(n, "\(what).ike.fragmentation") {
                s.fragmentation = b
            }
            // RFC 7383 §2.5.1: at least the IPv4 minimum of 576 octets, or `auto` (the path MTU).
            if let n = e.first(where: { $0.key == "fragment-size" })?.value,
               let size = w.fragmentSize(n, "\(what).ike.fragment-size") {
                s.fragmentSize = size
            }
            // RFC 7296 §2.8.3: reauthentication instead of an IKE SA rekey.
            if let n = e.first(where: { $0.key == "reauthenticate" })?.value, let b = w.bool(n, "\(what).ike.reauthenticate") {
                s.reauthenticate = b
            }
        }
        if let n = value("esp"), let e = w.mapping(n, "\(what).esp") {
            w.checkKeys(e, allowed: espKeys, in: "\(what).esp")
            s.esp = saSettings(e, node: n, base: s.esp, kind: .esp, allowWeak: s.allowWeakCrypto, w: w, what: "\(what).esp")
        }
        return s
    }

    static func saSettings(_ entries: [YAMLWalker.Entry], node: YAMLNode, base: SASettings, kind: Proposal.Kind,
                           allowWeak: Bool, w: YAMLWalker, what: String) -> SASettings {
        var s = base
        func value(_ key: String) -> YAMLNode? { entries.first { $0.key == key }?.value }
        if let n = value("proposals"), let items = w.list(n, "\(what).proposals", single: true) {
            var proposals: [Proposal] = []
            for item in items {
                guard let text = w.string(item, "\(what).proposals") else { continue }
                switch ProposalSyntax.parse(text, kind: kind) {
                case .success(let p):
                    let weak = p.weakAlgorithms
                    if !weak.isEmpty && !allowWeak {
                        w.error(.weakProposal, item, "proposal '\(text)' uses \(weak.joined(separator: ", ")), deprecated by RFC \(kind == .ike ? "8247" : "8221"); use e.g. \(kind == .ike ? "aes256gcm16-prfsha384-ecp384" : "aes256gcm16-x25519"), or set 'allow-weak-crypto: true' for a legacy peer")
                    }
                    proposals.append(p)
                case .failure(let e):
                    w.error(.invalidProposal, item, e.message)
                }
            }
            if items.isEmpty { w.error(.invalidValue, n, "\(what).proposals must list at least one proposal") }
            if !proposals.isEmpty { s.proposals = proposals }
        }
        if let n = value("lifetime"), let d = w.duration(n, "\(what).lifetime") {
            if d.seconds < 60 { w.error(.invalidValue, n, "\(what).lifetime must be at least 1m, found \(d)") } else { s.lifetime = d }
        }
        if let n = value("rekey-margin"), let d = w.duration(n, "\(what).rekey-margin") { s.rekeyMargin = d }
        if let n = value("rekey-jitter"), let d = w.duration(n, "\(what).rekey-jitter") { s.rekeyJitter = d }
        if s.rekeyMargin.seconds + s.rekeyJitter.seconds >= s.lifetime.seconds {
            w.error(.invalidValue, node, "\(what): rekey-margin (\(s.rekeyMargin)) plus rekey-jitter (\(s.rekeyJitter)) must be shorter than lifetime (\(s.lifetime)), or the SA would expire before it is rekeyed")
        }
        return s
    }

    static func dpd(_ node: YAMLNode, base: DPDSettings, w: YAMLWalker, what: String) -> DPDSettings {
        var s = base
        if case .scalar = node {
            if let d = w.duration(node, what) { s.interval = d }
        } else if let e = w.mapping(node, what) {
            w.checkKeys(e, allowed: dpdKeys, in: what)
            if let n = e.first(where: { $0.key == "interval" })?.value, let d = w.duration(n, "\(what).interval") { s.interval = d }
            if let n = e.first(where: { $0.key == "action" })?.value, let a = w.choice(n, "\(what).action", DPDAction.self) { s.action = a }
        }
        if s.interval.seconds < 1 { w.error(.invalidValue, node, "\(what) interval must be at least 1s") }
        return s
    }

    // MARK: - Gateways

    static func isValidName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard (1...32).contains(u.count) else { return false }
        func ok(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        return ok(u[0]) && ok(u[u.count - 1]) && u.allSatisfy { ok($0) || $0 == 0x2d }
    }

    static func gateway(_ e: YAMLWalker.Entry, w: YAMLWalker) -> Gateway? {
        let name = e.key
        let what = "gateway '\(name)'"
        var valid = true
        if !isValidName(name) {
            w.error(.invalidName, e.keyNode, "gateway name '\(name)' must be 1 to 32 lowercase letters, digits or '-', starting and ending with a letter or digit")
            valid = false
        }
        guard let entries = w.mapping(e.value, what) else { return nil }
        w.checkKeys(entries, allowed: gatewayKeys, in: what)
        func value(_ key: String) -> YAMLWalker.Entry? { entries.first { $0.key == key } }

        var managed = true
        if let v = value("managed"), let b = w.bool(v.value, "\(what).managed") { managed = b }

        var addresses: [IPAddress] = []
        var underlay = UnderlayKind.fixed
        if let v = value("address") {
            if let items = w.list(v.value, "\(what).address", single: true) {
                for item in items {
                    if let special = w.underlayWord(item) {
                        if items.count > 1 {
                            w.error(.invalidAddress, item, "\(what).address '\(special)' stands alone; a gateway has IP addresses, or is 'dynamic', or has one DNS name")
                            valid = false
                        } else {
                            underlay = special
                        }
                        continue
                    }
                    guard let a = w.address(item, "\(what).address") else { valid = false; continue }
                    if addresses.contains(a) { w.error(.invalidValue, item, "\(what).address lists \(a) twice") }
                    addresses.append(a)
                }
                if items.isEmpty { w.error(.missingKey, v.value, "\(what).address must list at least one address") }
            }
        } else if !w.hasNearMiss(entries, "address") {
            w.error(.missingKey, e.keyNode, "\(what) has no 'address'; give the underlay IP address its peers reach it at, its DNS name, or 'dynamic'")
            valid = false
        }

        var identity: Identity?
        if let v = value("identity"), let text = w.string(v.value, "\(what).identity") {
            identity = Identity(text)
            if identity == nil {
                w.error(.invalidValue, v.value, "\(what).identity '\(text)' is not a valid identity; use an FQDN (gw.example.net), an IP address, user@example.net or a DN (CN=gw,O=Example)")
            }
        }

        var certificate: String?, key: String?
        var certLoc: SourceLocation?, keyLoc: SourceLocation?
        for (field, isKey) in [("certificate", false), ("key", true)] {
            guard let v = value(field) else {
                if managed {
                    w.error(.missingKey, e.keyNode, "\(what) is managed by Viaduct but has no '\(field)'; give the path to its \(isKey ? "private key" : "certificate") (PEM), or set 'managed: false' for a peer Viaduct does not run on")
                }
                continue
            }
            if !managed {
                w.error(.invalidValue, v.keyNode, "\(what) has 'managed: false', so Viaduct never uses its \(field); remove '\(field)'")
                continue
            }
            if let path = w.string(v.value, "\(what).\(field)") {
                if isKey { key = path; keyLoc = w.location(v.value) } else { certificate = path; certLoc = w.location(v.value) }
            }
        }

        var asn: UInt32?
        if let v = value("asn"), let n = w.int(v.value, "\(what).asn", range: 1...4_294_967_294) {
            if n == 23456 {
                w.error(.invalidValue, v.value, "\(what).asn 23456 is AS_TRANS (RFC 6793), reserved; use your real AS number")
            } else if n == 65535 {
                w.error(.invalidValue, v.value, "\(what).asn 65535 is reserved (RFC 7300)")
            } else {
                asn = UInt32(n)
            }
        }

        var networks: [IPPrefix] = []
        if let v = value("networks"), let items = w.list(v.value, "\(what).networks", single: true) {
            for item in items {
                guard let p = w.prefix(item, "\(what).networks") else { continue }
                if let other = networks.first(where: { $0.overlaps(p) }) {
                    w.error(.invalidValue, item, "\(what).networks: \(p) overlaps \(other), listed before it")
                }
                networks.append(p)
            }
        }
        var dataplane: DataplaneKind?, kind: InterfaceKind?
        if let v = value("dataplane") { dataplane = w.choice(v.value, "\(what).dataplane", DataplaneKind.self) }
        if let v = value("interface-kind") { kind = w.choice(v.value, "\(what).interface-kind", InterfaceKind.self) }
        if let v = value("description") { _ = w.string(v.value, "\(what).description") }

        // A dynamic gateway has no address to stand for its identity: its peers pick it out by
        // the identity alone (RFC 7296 §2.15, IDi), so it must be written.
        if underlay == .dynamic, identity == nil, value("identity") == nil, let v = value("address") {
            w.error(.missingKey, v.value, "\(what) is 'address: dynamic', so its peers recognize it by its IKE identity alone; give 'identity:' (e.g. \(name).example.net, as in its certificate)")
            valid = false
        }
        guard valid else { return nil }
        let defaultIdentity: Identity
        switch underlay {
        case .fixed:
            guard let first = addresses.first else { return nil }
            defaultIdentity = .ipAddress(first)
        case .name(let n): defaultIdentity = .fqdn(n)
        case .dynamic:
            guard let identity else { return nil }
            defaultIdentity = identity
        }
        return Gateway(name: name, addresses: addresses, identity: identity ?? defaultIdentity,
                       certificate: certificate, key: key, asn: asn, networks: networks, managed: managed,
                       dataplane: dataplane, interfaceKind: kind, location: w.location(e.keyNode),
                       certificateLocation: certLoc, keyLocation: keyLoc, underlay: underlay)
    }

    // MARK: - Tunnels

    static func ref(_ node: YAMLNode, _ what: String, w: YAMLWalker) -> GatewayRef? {
        guard let name = w.string(node, what) else { return nil }
        return GatewayRef(name: name, location: w.location(node))
    }

    static func tunnelGroup(_ node: YAMLNode, defaults: TunnelSettings, w: YAMLWalker) -> TunnelGroup? {
        let loc = w.location(node)
        guard let entries = w.mapping(node, "each entry of 'tunnels'") else { return nil }
        w.checkKeys(entries, allowed: tunnelKeys, in: "a tunnel")
        func value(_ key: String) -> YAMLWalker.Entry? { entries.first { $0.key == key } }

        let shapes = ["between", "mesh", "hub"].filter { value($0) != nil }
        guard shapes.count == 1, let shapeKey = shapes.first else {
            if shapes.isEmpty {
                w.error(.missingKey, node, "a tunnel needs one of 'between: [a, b]', 'mesh: [a, b, c]' or 'hub: a' with 'spokes:'")
            } else {
                w.error(.invalidValue, node, "a tunnel has exactly one of 'between', 'mesh' or 'hub'; this one has \(shapes.joined(separator: " and "))")
            }
            return nil
        }
        var ok = true
        let pairOnly = ["inside", "interface", "initiator", "if-id"]
        let groupOnly = ["inside-pool", "inside-prefix-length"]
        for key in (shapeKey == "between" ? groupOnly + ["spokes"] : pairOnly + (shapeKey == "mesh" ? ["spokes"] : [])) {
            if let e = value(key) {
                let allowedWith = groupOnly.contains(key) ? "'mesh' and 'hub'" : (key == "spokes" ? "'hub'" : "'between'")
                w.error(.invalidValue, e.keyNode, "'\(key)' goes with \(allowedWith) tunnels, not with '\(shapeKey)'")
                ok = false
            }
        }

        var settings = defaults
        settings = TopologyParser.settings(entries, base: defaults, w: w, what: "the \(shapeKey) tunnel")
        if !authentication(entries, node: node, settings: &settings, w: w) { ok = false }
        var shape: TunnelGroup.Shape?
        var pools: [InsidePool] = []
        var insideLoc: SourceLocation?
        switch shapeKey {
        case "between":
            guard let e = value("between") else { return nil }
            if let items = w.list(e.value, "between") {
                let refs = items.compactMap { ref($0, "between", w: w) }
                if items.count != 2 {
                    w.error(.invalidValue, e.value, "between must name exactly two gateways, found \(items.count)")
                } else if refs.count == 2 {
                    var inside: [IPPrefix] = []
                    if let i = value("inside") {
                        insideLoc = w.location(i.value)
                        inside = prefixes(i.value, "inside", w: w)
                    } else if !w.hasNearMiss(entries, "inside") {
                        w.error(.missingKey, e.keyNode, "a 'between' tunnel needs 'inside:', the prefix its two inside addresses come from, e.g. 169.254.10.0/30")
                    }
                    shape = .pair(refs[0], refs[1], inside: inside)
                }
            }
        case "mesh":
            guard let e = value("mesh") else { return nil }
            if let items = w.list(e.value, "mesh") {
                let refs = items.compactMap { ref($0, "mesh", w: w) }
                if items.count < 2 { w.error(.invalidValue, e.value, "a mesh needs at least two gateways, found \(items.count)") }
                else if refs.count == items.count { shape = .mesh(refs) }
            }
        default:
            guard let e = value("hub") else { return nil }
            let hub = ref(e.value, "hub", w: w)
            var spokes: [GatewayRef] = []
            if let s = value("spokes") {
                if let items = w.list(s.value, "spokes", single: true) {
                    spokes = items.compactMap { ref($0, "spokes", w: w) }
                    if items.isEmpty { w.error(.invalidValue, s.value, "spokes must list at least one gateway") }
                }
            } else {
                w.error(.missingKey, e.keyNode, "a 'hub' tunnel needs 'spokes:', the gateways that connect to the hub")
            }
            if let hub, !spokes.isEmpty { shape = .hub(hub, spokes: spokes) }
        }
        if shapeKey != "between" {
            if let p = value("inside-pool") {
                insideLoc = w.location(p.value)
                let prefixes = prefixes(p.value, "inside-pool", w: w)
                var lengths = prefixes.map { $0.family == .ipv4 ? 30 : 126 }
                if let l = value("inside-prefix-length"), let items = w.list(l.value, "inside-prefix-length", single: true) {
                    if items.count != prefixes.count {
                        w.error(.invalidValue, l.value, "inside-prefix-length must give one length per inside-pool prefix (\(prefixes.count)), found \(items.count)")
                    } else {
                        for (i, item) in items.enumerated() {
                            let maxLen = prefixes[i].family == .ipv4 ? 31 : 127
                            if let n = w.int(item, "inside-prefix-length", range: 1...maxLen) {
                                if n <= prefixes[i].length {
                                    w.error(.invalidValue, item, "inside-prefix-length \(n) must be longer than the pool \(prefixes[i]) it is carved from")
                                } else { lengths[i] = n }
                            }
                        }
                    }
                }
                for (i, pool) in prefixes.enumerated() where lengths[i] <= pool.length {
                    w.error(.insideTooSmall, p.value, "inside-pool \(pool) is too small to carve /\(lengths[i]) tunnel prefixes from; use a shorter pool prefix or set inside-prefix-length")
                }
                pools = zip(prefixes, lengths).map { InsidePool(prefix: $0, slotLength: $1) }
            } else if !w.hasNearMiss(entries, "inside-pool") {
                w.error(.missingKey, node, "a '\(shapeKey)' tunnel needs 'inside-pool:', the prefix its tunnels' inside addresses are allocated from, e.g. 169.254.100.0/24")
            }
        }

        var names: [String: String] = [:]
        if let e = value("interface"), case .pair(let a, let b, _)? = shape {
            if case .mapping = e.value {
                if let entries = w.mapping(e.value, "interface") {
                    w.checkKeys(entries, allowed: [a.name, b.name], in: "interface (one name per gateway of the pair)")
                    for item in entries where item.key == a.name || item.key == b.name {
                        if let n = interfaceName(item.value, w: w) { names[item.key] = n }
                    }
                }
            } else if let n = interfaceName(e.value, w: w) {
                names[a.name] = n
                names[b.name] = n
            }
        }
        var initiator: GatewayRef?
        if let e = value("initiator"), case .pair(let a, let b, _)? = shape, let r = ref(e.value, "initiator", w: w) {
            if r.name != a.name && r.name != b.name {
                w.error(.invalidValue, e.value, "initiator '\(r.name)' must be one of the tunnel's gateways, \(a.name) or \(b.name)")
            } else { initiator = r }
        }
        var ifID: UInt32?
        if let e = value("if-id"), let n = w.int(e.value, "if-id", range: 1...0xffff_ffff) { ifID = UInt32(n) }
        if let e = value("description") { _ = w.string(e.value, "description") }
        guard ok, let shape else { return nil }
        return TunnelGroup(shape: shape, pools: pools, settings: settings, interfaceNames: names,
                           initiator: initiator, ifID: ifID, location: loc, insideLocation: insideLoc)
    }

    /// RFC 7296 §2.15: `auth: certificate | psk`, `psk-file: PATH` (with psk only), `allow-psk`.
    /// False when something is wrong (reported).
    static func authentication(_ entries: [YAMLWalker.Entry], node: YAMLNode, settings: inout TunnelSettings, w: YAMLWalker) -> Bool {
        func value(_ key: String) -> YAMLWalker.Entry? { entries.first { $0.key == key } }
        var psk = false
        if let e = value("auth"), let text = w.string(e.value, "auth") {
            switch text {
            case "certificate": psk = false
            case "psk": psk = true
            default:
                w.error(.invalidValue, e.value, "auth must be 'certificate' (the default) or 'psk', found '\(text)'")
                return false
            }
        }
        if let e = value("allow-psk"), let b = w.bool(e.value, "allow-psk") { settings.allowPSK = b }
        let file = value("psk-file")
        switch (psk, file) {
        case (true, nil):
            w.error(.missingKey, value("auth")?.keyNode ?? node,
                    "'auth: psk' needs 'psk-file:', the file holding the key (at least 32 bytes, mode 0600; 'viaduct pki psk FILE' makes one)")
            return false
        case (false, let f?):
            w.error(.invalidValue, f.keyNode, "'psk-file' goes with 'auth: psk'; this tunnel authenticates with certificates")
            return false
        case (true, let f?):
            guard let path = w.string(f.value, "psk-file") else { return false }
            guard !path.isEmpty else {
                w.error(.invalidValue, f.value, "psk-file must name a file")
                return false
            }
            settings.auth = .psk(file: path)
        case (false, nil):
            settings.auth = .certificate
        }
        return true
    }

    /// One prefix or a list of them, at most one per address family.
    static func prefixes(_ node: YAMLNode, _ what: String, w: YAMLWalker) -> [IPPrefix] {
        guard let items = w.list(node, what, single: true) else { return [] }
        var out: [IPPrefix] = []
        for item in items {
            guard let p = w.prefix(item, what) else { continue }
            if out.contains(where: { $0.family == p.family }) {
                w.error(.invalidValue, item, "\(what) takes at most one IPv4 and one IPv6 prefix; \(p) is a second \(p.family) one")
                continue
            }
            out.append(p)
        }
        if items.isEmpty { w.error(.missingKey, node, "\(what) must give at least one prefix") }
        return out
    }

    /// A Linux interface name: 1 to 15 bytes, no '/', ':', whitespace, not '.' or '..'.
    static func interfaceName(_ node: YAMLNode, w: YAMLWalker) -> String? {
        guard let n = w.string(node, "interface") else { return nil }
        let bytes = n.utf8
        let bad = bytes.isEmpty || bytes.count > 15 || n == "." || n == ".."
            || bytes.contains { $0 <= 0x20 || $0 == 0x2f || $0 == 0x3a || $0 >= 0x7f }
        if bad {
            w.error(.invalidName, node, "interface name '\(n)' must be 1 to 15 printable ASCII characters without '/', ':' or spaces (a Linux limit)")
            return nil
        }
        return n
    }
}
