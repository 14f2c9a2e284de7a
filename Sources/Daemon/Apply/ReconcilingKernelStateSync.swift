import KernelDataplane
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
            let desired = DesiredKernelState(plan: plan, down: down, backend: backend)
            return try reconciliation.reconcile(desired, resync: resync).map(\.description)
        } catch {
            throw DaemonError(.system, "configuring the tunnel interfaces failed: \(error)")
        }
    }
}
