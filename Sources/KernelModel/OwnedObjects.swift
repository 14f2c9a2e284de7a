// DESIGN.md §Reconciler: Viaduct only ever changes what it owns. Ownership is read from the objects
// themselves, never from a state file, so a crash or a restart cannot make Viaduct forget or over-claim:
//   routes   — rtm_protocol == Viaduct's protocol number (RouteProtocol.viaduct);
//   links    — name starts with "vd-" and the kind is one Viaduct creates (xfrm, vti, tun);
//   policies, SAs — bound to an if_id or mark in the set Viaduct assigned (derived from the topology).

/// Which kernel objects belong to Viaduct, given what identifies them.
public struct OwnedObjects: Hashable, Sendable {
    public var routeProtocol: UInt8
    public var linkPrefix: String
    public var interfaceIDs: Set<UInt32>
    public var marks: Set<UInt32>

    public init(routeProtocol: UInt8 = RouteProtocol.viaduct, linkPrefix: String = "vd-", interfaceIDs: Set<UInt32>, marks: Set<UInt32> = []) {
        self.routeProtocol = routeProtocol
        self.linkPrefix = linkPrefix
        self.interfaceIDs = interfaceIDs
        self.marks = marks
    }

    public func owns(_ route: Route) -> Bool { route.protocolNumber == routeProtocol }

    public func owns(_ link: Link) -> Bool {
        guard link.name.hasPrefix(linkPrefix) else { return false }
        switch link.kind {
        case .xfrm, .vti, .tun: return true
        case .other: return false
        }
    }

    public func owns(_ policy: XfrmPolicy) -> Bool { owns(interfaceID: policy.interfaceID, mark: policy.mark) }

    public func owns(_ state: XfrmState) -> Bool { owns(interfaceID: state.interfaceID, mark: state.mark) }

    /// An object bound to one of our if_ids, or carrying one of our marks with a full mask. A partial mask
    /// could match traffic of others, so it is never treated as ours.
    func owns(interfaceID: UInt32?, mark: XfrmMark?) -> Bool {
        if let interfaceID, interfaceIDs.contains(interfaceID) { return true }
        if let mark, mark.mask == 0xffff_ffff, marks.contains(mark.value) { return true }
        return false
    }

    public func routes(_ all: [Route]) -> [Route] { all.filter(owns) }
    public func links(_ all: [ObservedLink]) -> [ObservedLink] { all.filter { owns($0.link) } }
    public func policies(_ all: [XfrmPolicy]) -> [XfrmPolicy] { all.filter(owns) }
    public func states(_ all: [XfrmState]) -> [XfrmState] { all.filter(owns) }
}
