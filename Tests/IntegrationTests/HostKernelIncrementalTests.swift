import Foundation
import KernelDataplane
import KernelModel
import NetTypes
import Reconciler
import TestSupport
import Testing
import Topology

/// The executor's incremental path on a real kernel, in a fresh namespace: reconciles planned
/// against the kept state must leave the kernel exactly as a full observation sees it.
@Suite("HostKernel incremental reconciliation (root, fresh netns)")
struct HostKernelIncrementalTests {
    /// Hub `a` with spokes; `b` may move its network, and the inside pool may move, so addresses
    /// and routes change in place. Inside addresses are handed out in spoke order: a peer is
    /// removed from the end, so the others keep theirs.
    static func topology(spokes: [String], bNetwork: String = "198.18.2.0/24", pool: String = "169.254.100.0/24") -> String {
        var y = """
            version: 1
            pki: { ca: ca.pem }
            gateways:
              a: { address: 192.0.2.1, certificate: c, key: k, networks: [198.18.1.0/24] }
              b: { address: 192.0.2.2, identity: b.example.net, managed: false, networks: [\(bNetwork), "2001:db8:2::/64"] }

            """
        for s in spokes where s != "b" {
            let n = ["c": 13, "d": 14, "e": 15][s] ?? 19
            y += "  \(s): { address: 192.0.2.\(n), identity: \(s).example.net, managed: false, networks: [198.18.\(n).0/24] }\n"
        }
        y += "tunnels:\n  - hub: a\n    spokes: [\(spokes.joined(separator: ", "))]\n"
        y += "    inside-pool: [\(pool), \"2001:db8:ff::/112\"]\n    routing: static\n"
        return y
    }

    /// The userspace shape plus the kernel shape's route-based policies (bound to an `if_id`, they
    /// need no xfrm interface), as `viaduct bench apply` measures it, so every kind is cached.
    static func desired(_ yaml: String) throws -> DesiredKernelState {
        let plan = try HostKernelReconcileTests.plan(yaml)
        var d = DesiredKernelState(plan: plan, backend: .userspace)
        d.policies = DesiredKernelState(plan: plan, backend: .kernel).policies
        return d
    }

    static func ip(_ ns: String, _ args: String) throws -> String {
        try HostKernelReconcileTests.ip(["-n", ns] + args.split(separator: " ").map(String.init))
    }

    @Test("incremental reconciles (add peers, remove peers, move an address and a route) keep a cache equal to a full observation; foreign objects survive; outside changes are noticed or resynced")
    func incremental() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        try await FreshNetworkNamespace.run("rec-inc") { ns in
            for s in ["b", "c"] { try TunDevice.createPersistent(name: InterfaceNaming.name(forPeer: s)) }
            // Not Viaduct's: a static route, an address on lo, a policy without a binding, and a
            // TUN device outside the plan and without the `vd-` prefix.
            _ = try Self.ip(ns, "route add 198.18.9.0/24 dev lo proto static")
            _ = try Self.ip(ns, "addr add 198.18.8.1/24 dev lo")
            _ = try Self.ip(ns, "xfrm policy add src 198.18.7.0/24 dst 198.18.6.0/24 dir out priority 100")
            try TunDevice.createPersistent(name: "ipsec9")

            // As `viaduct run` makes it: removed interfaces are deleted by a background thread.
            let k = try KernelReconciliation(defersInterfaceDeletion: true)
            func step(_ what: String, _ desired: DesiredKernelState) throws -> [KernelChange] {
                let observations = k.fullObservations
                let changes = try k.reconcile(desired)
                #expect(k.fullObservations == observations, "\(what): planned against the cache, no dump")
                let cached = try #require(k.cache, "\(what): cache kept")
                #expect(cached == KernelStateCache(try k.observe()), "\(what): cache differs from a full observation")
                #expect(try k.reconcile(desired).isEmpty, "\(what): a second reconcile changed something")
                return changes
            }

            // First reconcile: a full observation.
            let first = try k.reconcile(try Self.desired(Self.topology(spokes: ["b", "c"])))
            #expect(k.fullObservations == 1 && !first.isEmpty)
            #expect(k.cache == KernelStateCache(try k.observe()))

            // Add two peers (their TUN devices first, as the userspace data plane makes them): only
            // their objects, the new interfaces looked up by name.
            for s in ["d", "e"] { try TunDevice.createPersistent(name: InterfaceNaming.name(forPeer: s)) }
            let added = try step("add d, e", try Self.desired(Self.topology(spokes: ["b", "c", "d", "e"])))
            let touched = Set(added.compactMap(Self.interface))
            #expect(touched == [InterfaceNaming.name(forPeer: "d"), InterfaceNaming.name(forPeer: "e")], "\(added)")
            #expect(try Self.ip(ns, "route show proto 222").contains("198.18.15.0/24 dev vd-e"))

            // Remove one: its policies, then its interface (addresses and routes go with it).
            let removed = try step("remove e", try Self.desired(Self.topology(spokes: ["b", "c", "d"])))
            #expect(removed.last == .deleteLink(name: InterfaceNaming.name(forPeer: "e")), "\(removed)")
            #expect(removed.dropLast().allSatisfy { if case .deletePolicy = $0 { true } else { false } } && removed.count == 7, "\(removed)")

            // Move b's network (a route) and the inside pool (addresses on every interface).
            let moved = try step("move", try Self.desired(Self.topology(spokes: ["b", "c", "d"], bNetwork: "198.18.22.0/24",
                                                                         pool: "169.254.101.0/24")))
            #expect(moved.contains(.deleteRoute(destination: try IPPrefix.parse("198.18.2.0/24").get(), interface: "vd-b")), "\(moved)")
            #expect(moved.contains { if case .addAddress(let a) = $0 { a.address.description == "169.254.101.1" } else { false } }, "\(moved)")
            let routes = try Self.ip(ns, "route show proto 222")
            #expect(routes.contains("198.18.22.0/24 dev vd-b") && !routes.contains("198.18.2.0/24"), "\(routes)")

            // Someone else deletes one of Viaduct's routes: its notification contradicts the cache,
            // so the next reconcile observes in full and puts the route back.
            let desired = try Self.desired(Self.topology(spokes: ["b", "c", "d"], bNetwork: "198.18.22.0/24", pool: "169.254.101.0/24"))
            _ = try Self.ip(ns, "route del 198.18.22.0/24 dev vd-b proto 222")
            var observations = k.fullObservations
            let repaired = try k.reconcile(desired)
            #expect(repaired == [.addRoute(DesiredRoute(destination: try IPPrefix.parse("198.18.22.0/24").get(), interface: "vd-b"))], "\(repaired)")
            #expect(k.fullObservations == observations + 1, "noticed from the route notification")
            #expect(try Self.ip(ns, "route show proto 222").contains("198.18.22.0/24 dev vd-b"))

            // The same for an address.
            let gone = try #require(desired.addresses.first { $0.interface == "vd-c" && $0.address.family == .ipv4 })
            _ = try Self.ip(ns, "addr del \(gone.address)/\(gone.prefixLength) dev vd-c")
            observations = k.fullObservations
            #expect(try k.reconcile(desired).contains(.addAddress(gone)))
            #expect(k.fullObservations == observations + 1)
            #expect(k.cache == KernelStateCache(try k.observe()))

            // XFRM policies have no notification here: someone's `ip xfrm policy delete` is seen by a
            // resync (the daemon's periodic one) only.
            let bOut = try #require(desired.policies.first { $0.direction == .outbound && $0.selector.family == .ipv4
                && $0.interfaceID == desired.policies.first?.interfaceID })
            let bID = try #require(bOut.interfaceID)
            _ = try Self.ip(ns, "xfrm policy delete src 0.0.0.0/0 dst 0.0.0.0/0 dir out if_id \(bID)")
            #expect(try k.reconcile(desired).isEmpty, "the cache cannot know")
            #expect(try k.reconcile(desired, resync: true) == [.addPolicy(bOut)])

            // A cached plan the kernel refuses (deleting a policy someone already deleted) is retried
            // once from a full observation, in the same call.
            let dPolicy = try #require(desired.policies.last)
            let dID = try #require(dPolicy.interfaceID)
            let family = dPolicy.selector.family == .ipv4 ? "0.0.0.0/0" : "::/0"
            _ = try Self.ip(ns, "xfrm policy delete src \(family) dst \(family) dir \(dPolicy.direction) if_id \(dID)")
            observations = k.fullObservations
            let back = try k.reconcile(try Self.desired(Self.topology(spokes: ["b", "c"], bNetwork: "198.18.22.0/24", pool: "169.254.101.0/24")))
            #expect(k.fullObservations == observations + 1, "retried from a full observation: \(back)")
            #expect(back.last == .deleteLink(name: "vd-d"), "\(back)")
            #expect(k.cache == KernelStateCache(try k.observe()))

            // Everything removed; the foreign objects are still there.
            _ = try k.reconcile(DesiredKernelState())
            try k.waitForDeletions()
            #expect(try Self.ip(ns, "route show proto 222").isEmpty)
            #expect(try Self.ip(ns, "route show proto static").contains("198.18.9.0/24"))
            #expect(try Self.ip(ns, "addr show dev lo").contains("198.18.8.1/24"))
            #expect(try Self.ip(ns, "xfrm policy show").contains("198.18.7.0/24"))
            #expect(try Self.ip(ns, "link show").contains("ipsec9"))
            #expect(!(try Self.ip(ns, "link show")).contains("vd-"))
        }
    }

    @Test("kernel shape (VM lab): xfrm interfaces created and deleted incrementally, the cache matching the kernel",
          .enabled(if: ProcessInfo.processInfo.environment["VIADUCT_KERNEL_LAB"] == "1",
                   "needs xfrm interfaces: runs in the kernel lab (Deploy/kernel-lab/run-tests HostKernel)"))
    func kernelShape() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        try await FreshNetworkNamespace.run("rec-inck") { ns in
            func desired(_ spokes: [String]) throws -> DesiredKernelState {
                DesiredKernelState(plan: try HostKernelReconcileTests.plan(Self.topology(spokes: spokes)), backend: .kernel)
            }
            let k = try KernelReconciliation(defersInterfaceDeletion: true)
            _ = try k.reconcile(try desired(["b", "c"]))
            let added = try k.reconcile(try desired(["b", "c", "d"]))
            #expect(added.first == .createLink(try #require(try desired(["b", "c", "d"]).links.last)), "\(added)")
            #expect(k.fullObservations == 1, "the new interface's index was looked up, not dumped")
            #expect(k.cache == KernelStateCache(try k.observe()))
            #expect(try k.reconcile(try desired(["b", "c", "d"]), resync: true).isEmpty)
            #expect(try Self.ip(ns, "-d link show vd-d").contains("xfrm"))

            let removed = try k.reconcile(try desired(["b", "c"]))
            #expect(removed.last == .deleteLink(name: "vd-d"), "\(removed)")
            try k.waitForDeletions()
            #expect(k.cache == KernelStateCache(try k.observe()))
            #expect(!(try Self.ip(ns, "link show")).contains("vd-d"))
            #expect(try k.reconcile(try desired(["b", "c"]), resync: true).isEmpty)

            _ = try k.reconcile(DesiredKernelState())
            try k.waitForDeletions()
            #expect(try Self.ip(ns, "xfrm policy show").isEmpty)
            #expect(!(try Self.ip(ns, "link show")).contains("vd-"))
        }
    }

    /// The interface a change is about (policies: none; they are checked by count elsewhere).
    static func interface(_ c: KernelChange) -> String? {
        switch c {
        case .createLink(let d): d.name
        case .deleteLink(let n), .setMTU(let n, _), .setUp(let n, _), .deleteAddress(let n, _, _), .deleteRoute(_, let n): n
        case .addAddress(let a): a.interface
        case .addRoute(let r): r.interface
        case .addPolicy, .deletePolicy: nil
        }
    }
}
