import KernelModel

/// An rtnetlink notification (`ip monitor link address route`) as the reconciler reads it: a
/// link, address or route that appeared or went. The executor checks each one against its
/// cache, to notice that someone else changed what the cache describes.
public enum KernelNotification: Hashable, Sendable {
    case link(ObservedLink, deleted: Bool)
    case address(LinkAddress, deleted: Bool)
    case route(Route, deleted: Bool)

    /// rtnetlink multicast groups (RTNLGRP_*) carrying them.
    public static let groups: [UInt32] = [1, 5, 7, 9, 11]   // LINK, IPV4_IFADDR, IPV4_ROUTE, IPV6_IFADDR, IPV6_ROUTE

    /// Decodes RTM_NEW/DELLINK, RTM_NEW/DELADDR, RTM_NEW/DELROUTE (a deletion carries the same
    /// body as the dump entry); nil for any other message type.
    public init?(decoding message: NetlinkMessage) throws(NetlinkDecodeError) {
        var m = message
        switch message.type {
        case RouteMessageType.newLink, RouteMessageType.deleteLink:
            m.type = RouteMessageType.newLink
            self = .link(try ObservedLink(decoding: m), deleted: message.type == RouteMessageType.deleteLink)
        case RouteMessageType.newAddress, RouteMessageType.deleteAddress:
            m.type = RouteMessageType.newAddress
            self = .address(try LinkAddress(decoding: m), deleted: message.type == RouteMessageType.deleteAddress)
        case RouteMessageType.newRoute, RouteMessageType.deleteRoute:
            m.type = RouteMessageType.newRoute
            self = .route(try Route(decoding: m), deleted: message.type == RouteMessageType.deleteRoute)
        default:
            return nil
        }
    }
}

extension KernelStateCache {
    /// Whether the notification says the kernel holds something else than this cache, which
    /// already includes every change the executor made. The executor's own changes therefore
    /// never contradict it (an added route is in the cache, a deleted one is not); the kernel's
    /// side effects either do not (a deleted interface's addresses) or are not notified (the
    /// IPv4 routes it flushes). Links are only checked for deletion and renaming: their other
    /// notifications report intermediate states (a new MTU before `up`) and carrier changes.
    public func contradicts(_ notification: KernelNotification) -> Bool {
        switch notification {
        case .link(let l, let deleted):
            guard let cached = links[l.index] else { return false }
            return deleted || cached.link.name != l.link.name
        case .address(let a, let deleted):
            guard links[a.interfaceIndex] != nil, !Ownership.isKernelGenerated(a.address) else { return false }
            let has = addresses[a.interfaceIndex]?.contains(CachedAddress(a)) == true
            return deleted == has
        case .route(let r, let deleted):
            guard Ownership.owns(r) else { return false }
            return deleted == routes.contains(CachedRoute(r))
        }
    }
}
