import ESP
import NetTypes

/// The control plane's own view of what it installed (peers, Child SA pairs, which outbound SA
/// is current): enough to answer `counters` and to validate requests without asking a worker.
struct PeerRegistry: Sendable {
    struct Pair: Sendable, Hashable {
        var peer: String
        var outbound: ESPSPI
    }
    var devices: [String: TUNDevice] = [:]
    /// Inbound SPI → its peer and outbound SPI.
    var pairs: [ESPSPI: Pair] = [:]
    /// Peer → the outbound SPI new packets use.
    var current: [String: ESPSPI] = [:]
}
