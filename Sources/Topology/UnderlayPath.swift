/// Which underlay addresses two gateways use to reach each other: the first of the peer's
/// addresses (in the order the topology lists them) whose family the local gateway also has,
/// paired with the local gateway's first address of that family. Both ends make the mirror
/// choice, so each end's local address is the other end's peer address.
///
/// An end whose address is not in the topology (`dynamic` or a DNS name) takes the family of
/// the other end's first address, IPv4 when neither end has one, and stands as the unspecified
/// address of that family (`0.0.0.0`, `::`): the daemon binds the wildcard for it, learns a
/// dynamic peer's address from its datagrams and a named peer's from the resolver.
import NetTypes
public enum UnderlayPath {
    public static func select(local: Gateway, peer: Gateway) -> (local: IPAddress, peer: IPAddress)? {
        if local.underlay != .fixed || peer.underlay != .fixed {
            let family = (local.addresses.first ?? peer.addresses.first)?.family ?? .ipv4
            func end(_ g: Gateway) -> IPAddress? {
                g.underlay == .fixed ? g.addresses.first { $0.family == family } : .unspecified(family)
            }
            guard let l = end(local), let p = end(peer) else { return nil }
            return (l, p)
        }
        // Prefer the family listed first by the gateway whose name sorts first, so that both
        // ends pick the same family even when the two list families in different orders.
        let (first, second) = local.name < peer.name ? (local, peer) : (peer, local)
        for a in first.addresses {
            if let b = second.addresses.first(where: { $0.family == a.family }) {
                let fa = first.addresses.first { $0.family == a.family } ?? a
                return local.name < peer.name ? (fa, b) : (b, fa)
            }
        }
        return nil
    }
}
