@testable import Daemon
import KernelModel
import NetTypes
import Reconciler
import Testing
import Topology

/// The kernel plane's XFRM policies toward a peer known by name follow the address its latest
/// Child SA has (LivePeerAddresses.swift, DesiredKernelState): a name that resolved elsewhere
/// at re-initiation moves the outbound template with the new Child SA, not at the next apply.
@Suite struct LivePeerAddressesTests {
    /// The outbound template's destination toward `peer`, as the reconciler would install it.
    static func outbound(_ plan: NodePlan, peer: String) throws -> IPAddress? {
        let ifID = try #require(plan.tunnels.first { $0.peer == peer }).interface.ifID
        return DesiredKernelState(plan: plan).policies
            .first { $0.interfaceID == ifID && $0.direction == .outbound }?.templates.first?.destination
    }

    @Test func aNamedPeersPoliciesFollowItsNewChildSA() throws {
        var plan = try PeerNamesTests.plan()
        let east = try #require(plan.tunnels.firstIndex { $0.peer == "east" })
        // The plan has the address an earlier lookup gave (start, an apply).
        let old = try #require(IPAddress("192.0.2.50")), new = try #require(IPAddress("192.0.2.77"))
        plan.tunnels[east].ike.peerAddress = old
        var live = LivePeerAddresses()
        _ = live.childSAInstalled(peer: "east", at: old, plan: plan)
        #expect(try Self.outbound(live.applied(to: plan), peer: "east") == old)

        // Re-initiation resolved the name elsewhere: the new Child SA's peer moves the policy.
        let moved = live.childSAInstalled(peer: "east", at: new, plan: plan)
        #expect(moved)
        #expect(try Self.outbound(live.applied(to: plan), peer: "east") == new)
        let again = live.childSAInstalled(peer: "east", at: new, plan: plan)
        #expect(!again)
        // The same through the reconciler's own input.
        let ifID = plan.tunnels[east].interface.ifID
        let desired = DesiredKernelState(plan: plan, peerAddresses: ["east": new])
        #expect(desired.policies.first { $0.interfaceID == ifID && $0.direction == .outbound }?.templates.first?.destination == new)
        #expect(desired.policies.first { $0.interfaceID == ifID && $0.direction == .inbound }?.templates.first?.source == new)
    }

    @Test func aFixedPeerKeepsItsPlannedAddress() throws {
        let plan = try PeerNamesTests.plan()
        let elsewhere = try #require(IPAddress("192.0.2.99"))
        var live = LivePeerAddresses()
        let moved = live.childSAInstalled(peer: "dc", at: elsewhere, plan: plan)
        #expect(!moved)
        #expect(try Self.outbound(live.applied(to: plan), peer: "dc") == IPAddress("198.51.100.9"))
        #expect(try Self.outbound(plan, peer: "dc") == IPAddress("198.51.100.9"))
    }

    @Test func aNamedPeerNotResolvedYetHasNoOutboundPolicyUntilItsChildSA() throws {
        let plan = try PeerNamesTests.plan()
        #expect(try Self.outbound(plan, peer: "east") == nil)
        var live = LivePeerAddresses()
        let at = try #require(IPAddress("192.0.2.50"))
        let followed = live.childSAInstalled(peer: "east", at: at, plan: plan)
        #expect(followed)
        #expect(try Self.outbound(live.applied(to: plan), peer: "east") == at)
    }
}
