import Foundation
import KernelModel
import KernelDataplane
import Reconciler
import TestSupport
import Testing
import Topology

/// The reconciler's executor against a real kernel, in a fresh namespace: the userspace shape
/// (TUN links) on any kernel; the kernel shape (xfrm interfaces + route-based policies) in the VM
/// lab, whose kernel has xfrm interfaces.
@Suite("HostKernel reconciliation (root, fresh netns)")
struct HostKernelReconcileTests {
    static let topology = """
        version: 1
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: c, key: k, networks: [198.18.1.0/24, "2001:db8:1::/64"] }
          b: { address: 192.0.2.2, certificate: c, key: k, networks: [198.18.2.0/24, "2001:db8:2::/64"] }
          c: { address: 192.0.2.3, certificate: c, key: k, networks: [198.18.3.0/24] }
        tunnels:
          - mesh: [a, b, c]
            inside-pool: [169.254.100.0/24, "2001:db8:ff::/112"]
        """

    static func plan(_ yaml: String = topology) throws -> NodePlan {
        let l = TopologyLoader.load(yaml: yaml, file: "t.yaml")
        guard l.isValid, let t = l.topology else { throw DiagnosticError(l.diagnostics) }
        return try NodePlanner.plan(t, links: l.links, node: "a", fileExists: { _ in true }).get()
    }

    static func ip(_ args: [String]) throws -> String {
        try FreshNetworkNamespace.ip(args).output
    }

    @Test("userspace shape: TUN links get MTU, addresses and routes; a second reconcile changes nothing; foreign objects survive")
    func userspaceShape() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        let plan = try Self.plan()
        try await FreshNetworkNamespace.run("rec-u") { ns in
            for t in plan.tunnels { try TunDevice.createPersistent(name: t.interface.name) }
            _ = try Self.ip(["-n", ns, "route", "add", "198.18.9.0/24", "dev", "lo", "proto", "static"])
            let k = try KernelReconciliation()
            let first = try k.reconcile(DesiredKernelState(plan: plan, backend: .userspace))
            #expect(!first.isEmpty)
            #expect(try k.reconcile(DesiredKernelState(plan: plan, backend: .userspace)).isEmpty, "not idempotent on a real kernel")
            let routes = try Self.ip(["-n", ns, "route", "show", "proto", "222"])
            #expect(routes.contains("198.18.2.0/24 dev vd-b") && routes.contains("198.18.3.0/24 dev vd-c"), "\(routes)")
            let v6 = try Self.ip(["-n", ns, "-6", "route", "show", "proto", "222"])
            #expect(v6.contains("2001:db8:2::/64 dev vd-b"), "\(v6)")
            let addrs = try Self.ip(["-n", ns, "addr", "show", "dev", "vd-b"])
            #expect(addrs.contains("169.254.100.1/30") && addrs.contains("2001:db8:ff::1/126") && addrs.contains("mtu 1400"), "\(addrs)")
            // A tunnel goes down: routes withdrawn, interface down, addresses kept.
            let down = try k.reconcile(DesiredKernelState(plan: plan, down: ["vd-b"], backend: .userspace))
            #expect(down.contains(.setUp(interface: "vd-b", up: false)))
            #expect(!(try Self.ip(["-n", ns, "route", "show", "proto", "222"])).contains("198.18.2.0/24"))
            // Everything removed again, foreign route intact.
            _ = try k.reconcile(DesiredKernelState())
            #expect(try Self.ip(["-n", ns, "route", "show", "proto", "222"]).isEmpty)
            #expect(try Self.ip(["-n", ns, "route", "show", "proto", "static"]).contains("198.18.9.0/24"))
            #expect(!(try Self.ip(["-n", ns, "link", "show"])).contains("vd-"))
        }
    }

    @Test("kernel shape (VM lab): xfrm interfaces and route-based policies, idempotent, removed cleanly",
          .enabled(if: ProcessInfo.processInfo.environment["VIADUCT_KERNEL_LAB"] == "1",
                   "needs xfrm interfaces: runs in the kernel lab (Deploy/kernel-lab/run-tests HostKernel)"))
    func kernelShape() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        let plan = try Self.plan()
        try await FreshNetworkNamespace.run("rec-k") { ns in
            let k = try KernelReconciliation()
            let desired = DesiredKernelState(plan: plan, backend: .kernel)
            _ = try k.reconcile(desired)
            #expect(try k.reconcile(desired).isEmpty, "not idempotent on a real kernel")
            let links = try Self.ip(["-n", ns, "-d", "link", "show", "vd-b"])
            #expect(links.contains("xfrm") && links.contains("if_id 0x\(String(plan.tunnels[0].interface.ifID, radix: 16))"), "\(links)")
            let policies = try Self.ip(["-n", ns, "xfrm", "policy", "show"])
            #expect(policies.components(separatedBy: "dir ").count - 1 == 12, "out/in/fwd x 2 families x 2 tunnels: \(policies)")
            _ = try k.reconcile(DesiredKernelState())
            #expect(try Self.ip(["-n", ns, "xfrm", "policy", "show"]).isEmpty)
            #expect(!(try Self.ip(["-n", ns, "link", "show"])).contains("vd-"))
        }
    }
}
