import KernelModel
import NetTypes
import Reconciler
import Testing
import Topology

/// A hub with unmanaged spokes and static routing (the shape `viaduct bench apply` uses): one
/// interface, one inside address, one route and out/in/fwd policies per spoke.
func hub(spokes: Int, mtu: Int = 1400) -> String {
    var y = "version: 1\npki: { ca: ca.pem }\ndefaults: { mtu: \(mtu) }\ngateways:\n"
    y += "  hub: { address: 2001:db8::1, identity: hub.example.net, certificate: c, key: k, networks: [198.19.255.0/24] }\n"
    for i in 1...spokes {
        let offset = (i - 1) * 32
        let prefix = "198.\(18 + offset / 65_536).\((offset / 256) % 256).\(offset % 256)/27"
        y += "  s\(i): { address: 2001:db8::\(String(i + 1, radix: 16)), identity: s\(i).example.net, managed: false, networks: [\(prefix)] }\n"
    }
    y += "tunnels:\n  - hub: hub\n    spokes: [\((1...spokes).map { "s\($0)" }.joined(separator: ", "))]\n"
    return y + "    inside-pool: 169.254.0.0/16\n    routing: static\n"
}

/// Records changes into a cache the way the executor does; a created link gets `index(name)`.
/// Returns whether the cache still predicts the kernel.
func record(_ changes: [KernelChange], into cache: inout KernelStateCache, index: (String) -> Int32?) -> Bool {
    var predictable = true
    for c in changes {
        if case .createLink(let d) = c {
            guard let i = index(d.name) else { return false }
            cache.insert(ObservedLink(index: i, link: Link(name: d.name, kind: d.kind, mtu: d.mtu, up: false), flags: 0))
        } else if !cache.record(c) {
            predictable = false
        }
    }
    return predictable
}

@Suite("Reconciler: incremental plans against a kept state")
struct IncrementalPlanTests {
    @Test("one peer added to and removed from a 1,000-peer hub: the plan is exactly that peer's objects")
    func onePeerOfAThousand() throws {
        let base = DesiredKernelState(plan: try nodePlan(hub(spokes: 1000), "hub"))
        let grown = DesiredKernelState(plan: try nodePlan(hub(spokes: 1001), "hub"))
        #expect(base.links.count == 1000 && base.policies.count == 3000)
        let baseNames = Set(base.links.map(\.name))
        let extra = try #require(grown.links.first { !baseNames.contains($0.name) })
        guard case .xfrm(let extraID, _) = extra.kind else { Issue.record("not an xfrm interface: \(extra.kind)"); return }

        var next: Int32 = 10
        func newIndex(_: String) -> Int32? {
            next += 1
            return next
        }
        var cache = KernelStateCache()
        let fromEmpty = Reconciler.plan(desired: base, observed: cache)
        #expect(fromEmpty.count == 7000)
        #expect(record(fromEmpty, into: &cache, index: newIndex))
        #expect(Reconciler.plan(desired: base, observed: cache).isEmpty)
        let settled = cache

        let add = Reconciler.plan(desired: grown, observed: cache)
        #expect(add == [.createLink(extra), .addAddress(try #require(grown.addresses.first { $0.interface == extra.name })),
                        .setUp(interface: extra.name, up: true),
                        .addRoute(try #require(grown.routes.first { $0.interface == extra.name }))]
                + grown.policies.filter { $0.interfaceID == extraID }.map(KernelChange.addPolicy))
        #expect(record(add, into: &cache, index: newIndex))
        #expect(Reconciler.plan(desired: grown, observed: cache).isEmpty)

        let remove = Reconciler.plan(desired: base, observed: cache)
        let policies = remove.filter { if case .deletePolicy(let p) = $0 { p.interfaceID == extraID } else { false } }
        #expect(policies.count == 3 && remove.count == 4 && remove.last == .deleteLink(name: extra.name), "\(remove)")
        #expect(record(remove, into: &cache, index: newIndex))
        #expect(cache == settled, "removing the peer leaves the state the 1,000 had")
        #expect(Reconciler.plan(desired: base, observed: cache).isEmpty)
    }

    @Test("a cache kept from recorded changes equals a fresh observation, and plans the same (seeded walk)")
    func cacheMatchesObservation() throws {
        var seed: UInt64 = 0x1c_ac4e
        func next() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed >> 33
        }
        let all = (0..<8).map { "g\($0)" }
        var k = KernelSimulator()
        var cache = KernelStateCache()
        var resyncs = 0
        for step in 0..<80 {
            var members = ["g0"] + all.dropFirst().filter { _ in next() % 2 == 0 }
            if members.count < 2 { members.append("g7") }
            let plan = try nodePlan(mesh(members, mtu: [1400, 1380, 1420][Int(next() % 3)]), "g0")
            let desired = DesiredKernelState(plan: plan, down: Set(plan.tunnels.map(\.interface.name).filter { _ in next() % 4 == 0 }))
            let changes = Reconciler.plan(desired: desired, observed: cache)
            #expect(changes == Reconciler.plan(desired: desired, observed: k.state), "step \(step): cache and observation plan differently")
            try k.apply(changes)
            let simulator = k
            if !record(changes, into: &cache, index: { try? simulator.index(of: $0) }) {
                cache = KernelStateCache(k.state)
                resyncs += 1
            }
            #expect(cache == KernelStateCache(k.state), "step \(step): the cache drifted from the kernel")
            #expect(Reconciler.plan(desired: desired, observed: cache).isEmpty)
        }
        #expect(resyncs < 80, "most steps keep the cache")
    }

    @Test("policies with the same binding and direction but another template are told apart")
    func templateChange() throws {
        let plan = try nodePlan(mesh(["a", "b"]), "a")
        let desired = DesiredKernelState(plan: plan)
        var k = KernelSimulator()
        try converge(&k, desired)
        var moved = desired
        moved.policies[0].templates[0].destination = try #require(IPAddress("192.0.2.99"))
        let cache = KernelStateCache(k.state)
        let old = try #require(cache.ownedPolicies.first { PolicyView($0) == PolicyView(desired.policies[0]) })
        #expect(Reconciler.plan(desired: moved, observed: cache) == [.deletePolicy(old), .addPolicy(moved.policies[0])])
    }
}

/// A policy without the kernel's index, for comparisons.
struct PolicyView: Equatable {
    var policy: XfrmPolicy
    init(_ p: XfrmPolicy) {
        policy = p
        policy.index = 0
    }
}
