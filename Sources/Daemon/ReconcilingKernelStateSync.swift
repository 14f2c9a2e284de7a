import Netlink
import Reconciler
import Topology

/// `KernelStateSync` over netlink: the lead's reconciler executor (`KernelReconciliation`) fed
/// with `DesiredKernelState(plan:down:backend:)`. Opens its netlink sockets in the calling
/// thread's network namespace and owns them (they close with this object).
public final class ReconcilingKernelStateSync: KernelStateSync {
    private var plan: NodePlan
    private let backend: DesiredKernelState.Backend
    private let reconciliation: KernelReconciliation

    public init(plan: NodePlan, backend: DesiredKernelState.Backend) throws(DaemonError) {
        self.plan = plan
        self.backend = backend
        do {
            reconciliation = try KernelReconciliation()
        } catch {
            throw DaemonError(.system, "cannot open the netlink sockets: \(error)")
        }
    }

    public func update(plan: NodePlan) { self.plan = plan }

    public func sync(down: Set<String>) throws(DaemonError) -> [String] {
        do {
            return try reconciliation.reconcile(DesiredKernelState(plan: plan, down: down, backend: backend)).map(\.description)
        } catch {
            throw DaemonError(.system, "configuring the tunnel interfaces failed: \(error)")
        }
    }
}
