import DataplaneContract
import KernelDataplane
import Logging
import Topology

/// Which data plane `viaduct run` uses, from the plan's `dataplane:` (docs/daemon.md).
///
/// `kernel` is XFRM interfaces or VTIs + kernel ESP (`KernelDataplaneBackend`); `userspace` is
/// TUN + Viaduct's ESP. `auto` asks `KernelESPProbe`: the kernel data plane when ESP and the
/// plan's interface kind are loaded or built in, the userspace one otherwise.
public enum DataplaneSelection {
    public enum Choice: String, Hashable, Sendable {
        case userspace
        case kernel
    }

    public static func choose(_ requested: DataplaneKind, interfaceKinds: Set<InterfaceKind> = [.xfrm],
                              probe: KernelESPProbe = .system) throws(DaemonError) -> Choice {
        switch requested {
        case .auto:
            return probe.missing(for: interfaceKinds).isEmpty ? .kernel : .userspace
        case .userspace:
            return .userspace
        case .kernel:
            return .kernel
        }
    }

    /// The backend `viaduct run` hands Child SAs to; whether the engine must force UDP
    /// encapsulation for it (the userspace data plane carries ESP-in-UDP only, as strongSwan's
    /// kernel-libipsec does); and whether the IKE sockets get per-socket XFRM bypass policies.
    /// They do with both data planes, as strongSwan's kernel-netlink always installs them:
    /// Viaduct's own route-based policies are bound to an if_id or mark and never match IKE, but
    /// a policy Viaduct does not own (another IPsec stack, an administrator's `0.0.0.0/0`) would
    /// catch IKE and ESP-in-UDP of every tunnel; a socket policy takes precedence over the SPD.
    /// Policy dumps skip socket policies, so the reconciler never sees them.
    public static func backend(for plan: NodePlan, logger: Logger) throws(DaemonError)
        -> (backend: any DataplaneBackend, forceUDPEncapsulation: Bool, bypassPolicies: Bool) {
        switch try choose(plan.dataplane, interfaceKinds: Set(plan.tunnels.map(\.interface.kind))) {
        case .userspace:
            let kernel = try ReconcilingKernelStateSync(plan: plan, backend: .userspace)
            return (UserspaceDataplaneBackend(plan: plan, kernel: kernel, logger: logger), true, true)
        case .kernel:
            let kernel = try ReconcilingKernelStateSync(plan: plan, backend: .kernel)
            return (try KernelDataplaneBackend(plan: plan, kernel: kernel, logger: logger), false, true)
        }
    }
}
