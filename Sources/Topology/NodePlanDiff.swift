import NetTypes

/// What applying a new plan to a running gateway does, tunnel by tunnel: the contract of
/// `viaduct apply`. Tunnels are matched by peer name. The rule that keeps untouched tunnels
/// untouched is that only a change to what the IKE and Child SAs were negotiated from (or to
/// the interface the SAs are bound to) re-establishes a tunnel; inside addresses, MTU and
/// routes are kernel objects changed in place under the running SAs.
public struct NodePlanDiff: Hashable, Sendable, Codable {
    public enum Action: String, Hashable, Sendable, Codable {
        /// A new peer: its interface is created and its IKE SA opened (or awaited).
        case add
        /// A peer that is gone: its SAs are deleted and its interface, addresses and routes removed.
        case remove
        /// IKE/ESP parameters or the interface's kind/name/key changed: the tunnel drops and
        /// comes back with the new ones.
        case reestablish
        /// Inside addresses, MTU or routes changed: kernel objects only; the SAs keep running.
        case update
        case unchanged
    }

    public struct TunnelChange: Hashable, Sendable, Codable {
        public var peer: String
        public var interface: String
        public var action: Action
        /// What differs, in the topology's words ("proposals", "routes: +198.18.9.0/24").
        public var reasons: [String]
    }

    /// Every tunnel of either plan, sorted by peer name.
    public var tunnels: [TunnelChange]
    /// Node-level differences a running daemon cannot take (apply refuses them; restart instead).
    public var restartRequired: [String]
    /// Node-level differences that change no tunnel (BGP-only settings, credential paths).
    public var notes: [String]
    /// What changed in the credential files' contents (certificate, CA bundle, CRLs), one line
    /// each: the daemon fills it in, having read the files (the plans only hold their paths).
    /// Non-empty, the daemon takes the new credentials for new IKE SAs and reauthentications,
    /// so the diff is not empty even when no tunnel changes. Nil from a daemon before it.
    public var credentials: [String]?

    public init(tunnels: [TunnelChange], restartRequired: [String], notes: [String], credentials: [String]? = nil) {
        self.tunnels = tunnels
        self.restartRequired = restartRequired
        self.notes = notes
        self.credentials = credentials
    }

    public var isEmpty: Bool {
        restartRequired.isEmpty && tunnels.allSatisfy { $0.action == .unchanged } && (credentials ?? []).isEmpty
    }

    public func peers(_ action: Action) -> [String] { tunnels.filter { $0.action == action }.map(\.peer) }

    /// The same tunnels as the daemon names them.
    public func tunnelIDs(_ action: Action) -> [TunnelID] { peers(action).map(TunnelID.init(peer:)) }

    public static func compute(from old: NodePlan, to new: NodePlan) -> NodePlanDiff {
        var restart: [String] = []
        var notes: [String] = []
        if old.node != new.node { restart.append("node: \(old.node) -> \(new.node)") }
        if old.dataplane != new.dataplane {
            restart.append("dataplane: \(old.dataplane.rawValue) -> \(new.dataplane.rawValue)")
        }
        if old.certificate != new.certificate || old.key != new.key || old.caCertificates != new.caCertificates
            || old.crls != new.crls {
            notes.append("credential files changed: new IKE SAs use them, established ones keep running")
        }
        if old.asn != new.asn || old.networks != new.networks {
            notes.append("asn/networks changed: regenerate the BGP configuration with 'viaduct bgp'")
        }
        let before = Dictionary(old.tunnels.map { ($0.peer, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.tunnels.map { ($0.peer, $0) }, uniquingKeysWith: { a, _ in a })
        var changes: [TunnelChange] = []
        for peer in Set(before.keys).union(after.keys).sorted() {
            switch (before[peer], after[peer]) {
            case (nil, let n?):
                changes.append(TunnelChange(peer: peer, interface: n.interface.name, action: .add, reasons: []))
            case (let o?, nil):
                changes.append(TunnelChange(peer: peer, interface: o.interface.name, action: .remove, reasons: []))
            case (let o?, let n?):
                changes.append(compare(o, n))
            case (nil, nil):
                continue
            }
        }
        return NodePlanDiff(tunnels: changes, restartRequired: restart, notes: notes)
    }

    private static func compare(_ o: TunnelPlan, _ n: TunnelPlan) -> TunnelChange {
        var drop: [String] = []
        if o.interface.name != n.interface.name { drop.append("interface name \(o.interface.name) -> \(n.interface.name)") }
        if o.interface.kind != n.interface.kind { drop.append("interface kind \(o.interface.kind.rawValue) -> \(n.interface.kind.rawValue)") }
        if o.interface.ifID != n.interface.ifID { drop.append("interface key \(o.interface.ifID) -> \(n.interface.ifID)") }
        if o.peerManaged != n.peerManaged { drop.append("managed") }
        let a = o.ike, b = n.ike
        if a.localAddress != b.localAddress { drop.append("local address \(a.localAddress) -> \(b.localAddress)") }
        if a.peerAddress != b.peerAddress || a.peerAddresses != b.peerAddresses || a.peerUnderlay != b.peerUnderlay { drop.append("peer address") }
        if a.localIdentity != b.localIdentity { drop.append("local identity") }
        if a.peerIdentity != b.peerIdentity { drop.append("peer identity") }
        if a.role != b.role { drop.append("IKE role \(a.role.rawValue) -> \(b.role.rawValue)") }
        if a.proposals != b.proposals { drop.append("IKE proposals") }
        if a.lifetime != b.lifetime || a.rekeyMargin != b.rekeyMargin || a.rekeyJitter != b.rekeyJitter {
            drop.append("IKE lifetime")
        }
        if a.dpd != b.dpd { drop.append("dpd") }
        if a.reauthenticate != b.reauthenticate { drop.append("reauthenticate") }
        if o.esp != n.esp { drop.append("ESP settings") }
        // A field added to the IKE plan later still counts, if only by this name.
        if drop.isEmpty && a != b { drop.append("IKE settings") }
        if !drop.isEmpty {
            return TunnelChange(peer: n.peer, interface: n.interface.name, action: .reestablish, reasons: drop)
        }
        var update: [String] = []
        if o.interface.mtu != n.interface.mtu { update.append("mtu \(o.interface.mtu) -> \(n.interface.mtu)") }
        if o.interface.mssClamp != n.interface.mssClamp { update.append("mss-clamp \(o.interface.mssClamp) -> \(n.interface.mssClamp)") }
        if o.interface.addresses != n.interface.addresses { update.append("inside addresses") }
        let oldRoutes = Set(o.routes.map(\.destination.description)), newRoutes = Set(n.routes.map(\.destination.description))
        let added = newRoutes.subtracting(oldRoutes).sorted(), removed = oldRoutes.subtracting(newRoutes).sorted()
        if !added.isEmpty || !removed.isEmpty {
            update.append("routes: " + (added.map { "+" + $0 } + removed.map { "-" + $0 }).joined(separator: " "))
        }
        if o.routing != n.routing { update.append("routing \(o.routing.rawValue) -> \(n.routing.rawValue)") }
        if o.bgp != n.bgp { update.append("BGP neighbor (regenerate with 'viaduct bgp')") }
        if update.isEmpty && o != n { update.append("other settings") }
        return TunnelChange(peer: n.peer, interface: n.interface.name, action: update.isEmpty ? .unchanged : .update,
                            reasons: update)
    }

    /// The human form `viaduct apply` prints: one line per tunnel that changes, then a summary.
    public func rendered() -> String {
        var lines: [String] = []
        for r in restartRequired { lines.append("! \(r) (needs a daemon restart; apply refuses it)") }
        for t in tunnels where t.action != .unchanged {
            let mark: String
            switch t.action {
            case .add: mark = "+ \(t.peer) (\(t.interface)): add: new interface, IKE SA"
            case .remove: mark = "- \(t.peer) (\(t.interface)): remove: SAs deleted, interface removed"
            case .reestablish: mark = "! \(t.peer) (\(t.interface)): re-establish (drops): \(t.reasons.joined(separator: ", "))"
            case .update: mark = "~ \(t.peer) (\(t.interface)): update in place, no rekey: \(t.reasons.joined(separator: ", "))"
            case .unchanged: mark = ""
            }
            lines.append(mark)
        }
        for c in credentials ?? [] { lines.append("~ credentials: \(c) (new IKE SAs use it; established ones keep running)") }
        for n in notes { lines.append("  note: \(n)") }
        let count = { (a: Action) in tunnels.filter { $0.action == a }.count }
        lines.append("\(count(.add)) to add, \(count(.remove)) to remove, \(count(.reestablish)) to re-establish, "
                     + "\(count(.update)) to update in place, \(count(.unchanged)) untouched")
        return lines.joined(separator: "\n")
    }
}
