/// Which underlay addresses two gateways use to reach each other: the first of the peer's
/// addresses (in the order the topology lists them) whose family the local gateway also has,
/// paired with the local gateway's first address of that family. Both ends make the mirror
/// choice, so each end's local address is the other end's peer address.
import NetTypes
public enum UnderlayPath {
    public static func select(local: Gateway, peer: Gateway) -> (local: IPAddress, peer: IPAddress)? {
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
