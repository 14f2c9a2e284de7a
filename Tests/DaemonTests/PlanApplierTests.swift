import CryptoCore
@testable import Daemon
import IKEv2
import NetTypes
import Testing
import Topology
import TestSupport

/// `PlanApplier` with scripted sessions, a recording data plane and a fake clock: only the
/// peers that change are touched; refusals change nothing; an unconfirmed apply rolls back.
struct PlanApplierTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    static func hub(_ spokes: [String], dataplane: String = "userspace", espLifetime: String = "1h") throws -> NodePlan {
        var gws = "  hub: { address: 192.0.2.1, certificate: c, key: k, networks: [198.18.0.0/24] }\n"
        for (i, s) in spokes.enumerated() {
            gws += "  \(s): { address: 192.0.2.\(i + 10), certificate: c, key: k, networks: [198.18.\(i + 10).0/24] }\n"
        }
        let yaml = """
            version: 1
            pki: { ca: ca.pem }
            defaults:
              dataplane: \(dataplane)
              esp: { proposals: [aes256gcm16-x25519], lifetime: \(espLifetime) }
            gateways:
            \(gws)
            tunnels:
              - hub: hub
                spokes: [\(spokes.joined(separator: ", "))]
                inside-pool: 169.254.10.0/24
            """
        let l = TopologyLoader.load(yaml: yaml, file: "apply-test.yaml")
        let t = try #require(l.topology, "\(l.diagnostics)")
        return try NodePlanner.plan(t, links: l.links, node: "hub", fileExists: { _ in true }).get()
    }

    struct Rig {
        let core: EndpointDriver
        let factory: FakeFactory
        let dataplane: RecordingDataplane
        let applier: PlanApplier
    }

    func rig(_ plan: NodePlan, capture: LogCapture = LogCapture()) -> Rig {
        let factory = FakeFactory()
        let dp = RecordingDataplane()
        let core = EndpointDriver(factory: factory, dataplane: dp, logger: capture.logger(), reinitiateDelaySeconds: 10)
        for t in plan.tunnels { core.add(peer: IKETunnelPeer(tunnel: t)) }
        core.start(now: t0)
        let applier = PlanApplier(plan: plan, core: core, dataplane: dp, listening: NodeDaemon.localAddresses(plan),
                                  ports: .standard, logger: capture.logger()) { _ in factory }
        return Rig(core: core, factory: factory, dataplane: dp, applier: applier)
    }

    func sessions(_ f: FakeFactory, to peer: NodePlan, _ name: String) -> Int {
        let remote = peer.tunnels.first { $0.peer == name }?.ike.peerAddress.bytes
        return f.made.filter { $0.peer.address == remote }.count
    }

    @Test func addingAPeerStartsOnlyIt() throws {
        let old = try Self.hub(["a", "b"])
        let new = try Self.hub(["a", "b", "c"])
        let r = rig(old)
        let madeBefore = r.factory.made.count
        let outcome = try r.applier.apply(new, now: t0)
        #expect(outcome.applied)
        #expect(outcome.diff.peers(.add) == ["c"])
        #expect(r.core.peers.map(\.name) == ["a", "b", "c"])
        // a and b keep their sessions; c got one only if the hub initiates to it.
        let cInitiates = new.tunnels.first { $0.peer == "c" }?.ike.role == .initiator
        #expect(r.factory.made.count == madeBefore + (cInitiates ? 1 : 0))
        // No removal: the data plane saw the new plan once, no intermediate one.
        #expect(r.dataplane.plans == [new])
        #expect(r.applier.plan == new)
    }

    @Test func removingAPeerTakesItOutBeforeReconciling() throws {
        let old = try Self.hub(["a", "b", "c"])
        let new = try Self.hub(["a", "c"])
        let r = rig(old)
        let outcome = try r.applier.apply(new, now: t0)
        #expect(outcome.diff.peers(.remove) == ["b"])
        #expect(r.core.peers.map(\.name) == ["a", "c"])
        #expect(r.dataplane.plans.count == 2)
        #expect(r.dataplane.plans.first?.tunnels.map(\.peer) == ["a", "c"])
        #expect(r.dataplane.plans.last == new)
    }

    @Test func dryRunChangesNothing() throws {
        let r = rig(try Self.hub(["a"]))
        let outcome = try r.applier.apply(try Self.hub(["a", "b"]), dryRun: true, now: t0)
        #expect(!outcome.applied)
        #expect(outcome.diff.peers(.add) == ["b"])
        #expect(r.dataplane.plans.isEmpty)
        #expect(r.core.peers.map(\.name) == ["a"])
    }

    @Test func anotherDataplaneIsRefusedAndNothingChanges() throws {
        let old = try Self.hub(["a"])
        let r = rig(old)
        #expect(throws: DaemonError.self) { try r.applier.apply(try Self.hub(["a", "b"], dataplane: "kernel"), now: t0) }
        #expect(r.dataplane.plans.isEmpty)
        #expect(r.applier.plan == old)
    }

    @Test func aLocalAddressNotListenedOnIsRefused() throws {
        let old = try Self.hub(["a"])
        let r = rig(old)
        var moved = try Self.hub(["a", "b"])
        moved.tunnels[1].ike.localAddress = try #require(IPAddress("192.0.2.99"))
        #expect(throws: DaemonError.self) { try r.applier.apply(moved, now: t0) }
        #expect(r.dataplane.plans.isEmpty)
        #expect(r.core.peers.map(\.name) == ["a"])
    }

    @Test func unconfirmedApplyRollsBackAtTheDeadline() throws {
        let old = try Self.hub(["a"])
        let new = try Self.hub(["a", "b"])
        let r = rig(old)
        let outcome = try r.applier.apply(new, confirmWithin: 10, now: t0)
        #expect(outcome.rollbackAt == t0.adding(seconds: 10))
        r.applier.fireTimers(now: t0.adding(seconds: 9))
        #expect(r.applier.plan == new)
        r.applier.fireTimers(now: t0.adding(seconds: 10))
        #expect(r.applier.plan == old)
        #expect(r.core.peers.map(\.name) == ["a"])
        #expect(r.applier.rollbackDeadline == nil)
    }

    @Test func confirmedApplyStays() throws {
        let old = try Self.hub(["a"])
        let new = try Self.hub(["a", "b"])
        let r = rig(old)
        _ = try r.applier.apply(new, confirmWithin: 10, now: t0)
        #expect(r.applier.confirm())
        #expect(!r.applier.confirm())
        r.applier.fireTimers(now: t0.adding(seconds: 60))
        #expect(r.applier.plan == new)
    }

    /// `viaduct rollback`: the previous plan at once, before the deadline; nothing to undo after.
    @Test func rollbackRestoresThePreviousPlanNow() throws {
        let old = try Self.hub(["a"])
        let new = try Self.hub(["a", "b"])
        let r = rig(old)
        #expect(!r.applier.rollback(now: t0))
        _ = try r.applier.apply(new, confirmWithin: 10, now: t0)
        #expect(r.core.peers.map(\.name) == ["a", "b"])
        #expect(r.applier.rollback(now: t0.adding(seconds: 1)))
        #expect(r.applier.plan == old)
        #expect(r.core.peers.map(\.name) == ["a"])
        #expect(r.applier.rollbackDeadline == nil)
        #expect(!r.applier.rollback(now: t0.adding(seconds: 2)))
        #expect(!r.applier.confirm())
    }

    @Test func reestablishedPeerGetsANewSession() throws {
        let old = try Self.hub(["a"])
        let new = try Self.hub(["a"], espLifetime: "2h")
        let r = rig(old)
        let before = r.factory.made.count
        let outcome = try r.applier.apply(new, now: t0)
        #expect(outcome.diff.peers(.reestablish) == ["a"])
        #expect(r.core.peers.map(\.name) == ["a"])
        let initiates = new.tunnels[0].ike.role == .initiator
        #expect(r.factory.made.count == before + (initiates ? 1 : 0))
        // The interface stays (same name and key): no intermediate plan without it.
        #expect(r.dataplane.plans == [new])
    }
}
