/// Derives the tunnel interface name on a node for a peer. Linux limits names to 15 bytes.
/// `vd-<peer>` when it fits; otherwise the first six characters of the peer and a 30-bit hash of
/// its full name (`vd-branch-k3x9q`), which keeps names readable, stable across runs and, with
/// the clash check in validation, unique on the node.
public enum InterfaceNaming {
    public static let prefix = "vd-"

    public static func name(forPeer peer: String) -> String {
        let plain = prefix + peer
        if plain.utf8.count <= 15 { return plain }
        var head = String(peer.prefix(6))
        while head.hasSuffix("-") { head.removeLast() }
        return prefix + head + "-" + StableHash.base32(StableHash.mixed(peer), count: 6).prefix(15 - prefix.count - head.count - 1)
    }
}
