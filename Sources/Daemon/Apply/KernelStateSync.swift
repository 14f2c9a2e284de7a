import Logging
import NetTypes
import Topology

/// Brings the kernel's links, addresses and routes in line with the plan, given which tunnels
/// are down (no Child SA). The data plane calls it at start (all tunnels down) and whenever a
/// tunnel's first Child SA comes up or its last one goes, so static routes appear and vanish
/// with the tunnel and a BGP daemon sees the interface go down. Implemented over netlink by
/// `ReconcilingKernelStateSync`; tests use a recording fake.
public protocol KernelStateSync: AnyObject {
    /// Returns what changed, one line per change (`KernelChange.description`), for the log.
    func sync(down: Set<String>) throws(DaemonError) -> [String]
    /// The plan to reconcile to from the next `sync` on (`viaduct apply`).
    func update(plan: NodePlan)
    /// The same after looking at the whole kernel again, so what others changed is repaired.
    /// Implementations that keep no state between syncs need not provide it.
    func resync(down: Set<String>) throws(DaemonError) -> [String]
    /// The MTUs computed for `mtu: auto` interfaces (`TunnelPathSizing`), used from the next sync on.
    func update(mtus: [String: Int])
    /// The underlay path MTU towards `address` (route MTU, else the output link's), nil if unknown.
    func pathMTU(to address: IPAddress) -> Int?
    /// The same for packets leaving from `source` (policy routing: `ip rule from SOURCE`).
    func pathMTU(to address: IPAddress, from source: IPAddress) -> Int?
}

extension KernelStateSync {
    /// Implementations that do not configure MTUs (test doubles) ignore computed ones.
    public func update(mtus: [String: Int]) {}
    /// Implementations without a kernel to ask know no path MTU.
    public func pathMTU(to address: IPAddress) -> Int? { nil }
    /// Implementations without policy routing (test doubles) answer for the destination alone.
    public func pathMTU(to address: IPAddress, from source: IPAddress) -> Int? { pathMTU(to: address) }

    public func resync(down: Set<String>) throws(DaemonError) -> [String] {
        try sync(down: down)
    }

    /// Tells the kernel which tunnels are up, logging each change as one line. At start a failure
    /// is fatal (`throwing`); later it is logged, and the next change reconciles again from
    /// whatever the kernel holds.
    func sync(down: Set<String>, logger: Logger, throwing: Bool, resync: Bool = false) throws(DaemonError) {
        do {
            for change in try resync ? self.resync(down: down) : sync(down: down) {
                logger.info("kernel updated", metadata: ["change": "\(change)"])
            }
        } catch {
            logger.error("cannot configure the tunnel interfaces", metadata: [
                "reason": "\(error.message)", "down": "\(down.sorted().joined(separator: ","))",
            ])
            if throwing { throw error }
        }
    }
}
