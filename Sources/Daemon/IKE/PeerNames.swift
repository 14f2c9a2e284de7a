import NetTypes
import System
import Topology

/// Peers known by a DNS name (`address: NAME`): their names resolved into the plan, with the
/// system resolver by default. When the daemon starts and on every `apply` (and SIGHUP) the
/// whole plan is resolved here, so the IKE peers, the kernel's policies and the routing of
/// datagrams see real addresses; on every IKE SA the daemon opens to such a peer (first start,
/// re-initiation, after a DPD failure) `EngineSessionFactory` resolves the name again and the
/// endpoint follows a changed answer (`IKESAManager.updateAddresses`). A failure is a log line,
/// a status reason and a retry, never a crash.
public struct PeerNames: Sendable {
    /// A name and family in, the addresses (or why not) out.
    public var resolve: @Sendable (String, IPAddress.Family) -> Result<[IPAddress], NameResolution.Failure>

    public init(resolve: @escaping @Sendable (String, IPAddress.Family) -> Result<[IPAddress], NameResolution.Failure>) {
        self.resolve = resolve
    }

    /// getaddrinfo(3) through System, the one door to the OS.
    public static let system = PeerNames { name, family in
        NameResolution.addresses(of: name, ipv6: family == .ipv6).map { list in list.compactMap(IPAddress.init(networkBytes:)) }
    }

    /// The tunnel's peer name, when it has one.
    public static func name(of tunnel: TunnelPlan) -> String? {
        if case .name(let n) = tunnel.ike.peerUnderlay { return n }
        return nil
    }

    /// `plan` with every named peer's address replaced by its first answer (all answers in
    /// `peerAddresses`), and the names that did not resolve, by peer, with why. An unresolved
    /// peer keeps the unspecified address: nothing routes to it until a later attempt succeeds.
    public func resolved(_ plan: NodePlan) -> (plan: NodePlan, failures: [String: String]) {
        var plan = plan
        var failures: [String: String] = [:]
        for i in plan.tunnels.indices {
            guard let name = Self.name(of: plan.tunnels[i]) else { continue }
            let family = plan.tunnels[i].ike.peerAddress.family
            switch resolve(name, family) {
            case .success(let list):
                guard let first = list.first else { continue }
                plan.tunnels[i].ike.peerAddress = first
                plan.tunnels[i].ike.peerAddresses = list
            case .failure(let f):
                failures[plan.tunnels[i].peer] = f.description
            }
        }
        return (plan, failures)
    }
}

extension IPAddress {
    /// From 4 or 16 network-order bytes (what sockets and the engine's endpoints hold).
    init?(networkBytes b: [UInt8]) {
        switch b.count {
        case 4: self = .v4(b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            self = .v6(b[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, b[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        default: return nil
        }
    }
}
