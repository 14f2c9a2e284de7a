import KernelDataplane
import KernelModel
import Reconciler
import Topology

/// What `viaduct plan` shows as root: the reconciler's changes against this kernel, for the data
/// plane `viaduct run` would choose, every tunnel up.
public enum KernelPreview {
    public static func changes(for plan: NodePlan) throws(NetlinkError) -> (backend: DesiredKernelState.Backend, changes: [KernelChange]) {
        let kinds = Set(plan.tunnels.map(\.interface.kind))
        let choice = (try? DataplaneSelection.choose(plan.dataplane, interfaceKinds: kinds)) ?? .userspace
        let backend: DesiredKernelState.Backend = choice == .kernel ? .kernel : .userspace
        let observed = try KernelReconciliation().observe()
        return (backend, Reconciler.plan(desired: DesiredKernelState(plan: plan, backend: backend), observed: observed))
    }
}
