import KernelDataplane
import NetTypes
import Reconciler
import Topology

/// `KernelStateSync` over netlink: the reconciler executor (`KernelReconciliation`) fed with
/// `DesiredKernelState(plan:down:backend:)`. Opens its netlink sockets in the calling thread's
/// network namespace and owns them (they close with this object).
///
/// `sync` is incremental: it plans against what the last reconcile left in the kernel, so a
/// tunnel going up or down sends that tunnel's changes only, without dumping the kernel's
/// state first. `resync` observes the kernel in full and repairs what others changed; the
/// daemon calls it periodically (`KernelResyncTimer`).
public final class ReconcilingKernelStateSync: KernelStateSync {
    private var plan: NodePlan
    private let backend: DesiredKernelState.Backend
    private let reconciliation: KernelReconciliation
    private var mtus: [String: Int] = [:]
    private var lookup: NetlinkSocket?

    public init(plan: NodePlan, backend: DesiredKernelState.Backend) throws(DaemonError) {
        self.plan = plan
        self.backend = backend
        do {
            reconciliation = try KernelReconciliation(defersInterfaceDeletion: true)
        } catch {
            throw DaemonError(.system, "cannot open the netlink sockets: \(error)")
        }
    }

    public func update(plan: NodePlan) { self.plan = plan }

    /// `mtu: auto` interfaces get these MTUs from the next sync on.
    public func update(mtus: [String: Int]) { self.mtus = mtus }

    /// `ip route get ADDRESS` and the route's or its link's MTU, on a route socket opened on
    /// first use; nil (and logged by the caller as unknown) when the kernel cannot say.
    public func pathMTU(to address: IPAddress) -> Int? {
        do {
            if lookup == nil { lookup = try NetlinkSocket(.route) }
            return try lookup?.pathMTU(to: address)
        } catch {
            return nil
        }
    }

    /// `ip route get ADDRESS from SOURCE`: the route the tunnel's IKE and ESP packets take
    /// under policy routing.
    public func pathMTU(to address: IPAddress, from source: IPAddress) -> Int? {
        do {
            if lookup == nil { lookup = try NetlinkSocket(.route) }
            return try lookup?.pathMTU(to: address, from: source)
        } catch {
            return nil
        }
    }

    public func sync(down: Set<String>) throws(DaemonError) -> [String] {
        try reconcile(down: down, resync: false)
    }

    public func resync(down: Set<String>) throws(DaemonError) -> [String] {
        try reconcile(down: down, resync: true)
    }

    /// Full observations so far (the first sync, resyncs, and recoveries from a failed change).
    public var fullObservations: Int { reconciliation.fullObservations }

    private func reconcile(down: Set<String>, resync: Bool) throws(DaemonError) -> [String] {
        do {
            let desired = DesiredKernelState(plan: plan, down: down, backend: backend, mtus: mtus)
            return try reconciliation.reconcile(desired, resync: resync).map(\.description)
        } catch {
            throw DaemonError(.system, "configuring the tunnel interfaces failed: \(error)")
        }
    }
}
