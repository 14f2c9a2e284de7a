import KernelDataplane
import KernelModel
import TestSupport
import Testing
import Topology

@Suite("Owned-object filter and error wording")
struct OwnedObjectsTests {
    let owner = OwnedObjects(interfaceIDs: [42, 43], marks: [7])

    @Test func routesByProtocolNumber() {
        let ours = Route(destination: Fixture.prefix("198.18.2.0/24"), outputInterface: 4)
        let bird = Route(destination: Fixture.prefix("198.18.3.0/24"), outputInterface: 4, protocolNumber: 12)
        let kernel = Route(destination: Fixture.prefix("169.254.0.0/30"), outputInterface: 4, protocolNumber: RouteProtocol.kernel)
        #expect(owner.routes([bird, ours, kernel]) == [ours])
        #expect(OwnedObjects(routeProtocol: 12, interfaceIDs: []).routes([bird, ours, kernel]) == [bird])
    }

    @Test func linksByPrefixAndKind() {
        let links = [
            ObservedLink(index: 2, link: Link(name: "vd-dc2", kind: .xfrm(ifID: 42, underlyingIndex: nil)), flags: 0),
            ObservedLink(index: 3, link: Link(name: "vd-tun", kind: .tun), flags: 0),
            ObservedLink(index: 4, link: Link(name: "vd-oops", kind: .other("dummy")), flags: 0),
            ObservedLink(index: 5, link: Link(name: "ipsec0", kind: .xfrm(ifID: 42, underlyingIndex: nil)), flags: 0),
            ObservedLink(index: 6, link: Link(name: "vd-v", kind: .vti(ikey: 7, okey: 7, local: Fixture.a, remote: Fixture.b)), flags: 0),
        ]
        #expect(owner.links(links).map(\.index) == [2, 3, 6])
    }

    @Test func policiesAndStatesByInterfaceIDOrFullMark() {
        let t = [XfrmTemplate(source: Fixture.a, destination: Fixture.b, reqid: 1)]
        let mine = XfrmPolicy(selector: .any(.ipv4), direction: .outbound, templates: t, interfaceID: 42)
        let marked = XfrmPolicy(selector: .any(.ipv6), direction: .inbound, templates: t, mark: XfrmMark(value: 7))
        let partialMask = XfrmPolicy(selector: .any(.ipv4), direction: .inbound, templates: t, mark: XfrmMark(value: 7, mask: 0xff))
        let foreign = XfrmPolicy(selector: .any(.ipv4), direction: .forward, templates: t, interfaceID: 99)
        let unbound = XfrmPolicy(selector: .any(.ipv4), direction: .forward, templates: t)
        #expect(owner.policies([mine, marked, partialMask, foreign, unbound]) == [mine, marked])

        let sa = XfrmState(source: Fixture.a, destination: Fixture.b, spi: 1, reqid: 1, algorithms: Fixture.aead, interfaceID: 43)
        var other = sa
        other.interfaceID = 44
        #expect(owner.states([other, sa]) == [sa])
    }

    @Test func errorDescriptionsNameTheObject() throws {
        let route = Route(destination: Fixture.prefix("198.18.2.0/24"), outputInterface: 4)
        let request = try route.addRequest(interfaceName: "vd-dc2")
        let error = NetlinkError(.kernel, errno: 17, context: request.summary)
        #expect(error.description == "adding route 198.18.2.0/24 dev vd-dc2 proto 222: File exists")
        let policy = XfrmPolicy(selector: .any(.ipv6), direction: .forward, interfaceID: 42)
        #expect(policy.deleteRequest().summary == "deleting policy src ::/0 dst ::/0 dir fwd if_id 42")
        let withText = NetlinkError(.kernel, errno: 38, context: "adding SA", kernelMessage: "Requested AEAD algorithm not found")
        #expect(withText.description == "adding SA: Function not implemented (Requested AEAD algorithm not found)")
    }

    @Test func sysctlPathsAndValidation() {
        #expect(InterfaceSysctl.disablePolicy("vd-dc2").path == "/proc/sys/net/ipv4/conf/vd-dc2/disable_policy")
        #expect(InterfaceSysctl.ipv6("vd-dc2", enabled: false).value == "1")
        #expect(InterfaceSysctl.disablePolicy("../all").isWellFormed == false)
        #expect(InterfaceSysctl.disablePolicy("..").isWellFormed == false)
        #expect(throws: NetlinkError.self) { try SysctlWriter.apply(.disablePolicy("a/b")) }
    }
}
