import KernelModel
import NetTypes
import TestSupport
import Testing
import Topology

/// Each case builds, with the typed API, the object that `ip` was asked for in the kernel lab and checks that
/// the encoder produces exactly the bytes iproute2 sent (sequence number and port id taken from the capture).
@Suite("Byte-exact against iproute2")
struct ByteExactTests {
    /// `padding`: offsets of struct padding that iproute2 leaves uninitialised (stack garbage in the capture);
    /// there our bytes must be zero and every other byte must match.
    func check(_ request: NetlinkRequest, _ captured: String, padding: [Int] = [],
               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let (seq, pid) = Fixture.header(captured)
        var ours = request.numbered(sequence: seq, portID: pid).encoded()
        var theirs = hex(captured)
        for offset in padding where offset < ours.count && offset < theirs.count {
            #expect(ours[offset] == 0, "padding byte \(offset) must be zero", sourceLocation: sourceLocation)
            ours[offset] = 0
            theirs[offset] = 0
        }
        #expect(hexString(ours) == hexString(theirs), sourceLocation: sourceLocation)
    }

    // ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xc0000001 reqid 1 mode tunnel replay-window 0
    //   flag af-unspec if_id 42 aead rfc4106(gcm(aes)) K 128 limit time-soft 3537 limit time-hard 3960
    @Test func saAddAEADInterfaceID() throws {
        let sa = XfrmState(source: Fixture.a, destination: Fixture.b, spi: 0xc000_0001, reqid: 1, algorithms: Fixture.aead,
                           replay: .window(0), lifetime: XfrmLifetime(softAddSeconds: 3537, hardAddSeconds: 3960),
                           interfaceID: 42, flags: .addressFamilyUnspecified)
        check(try sa.addRequest(), IPRoute2Captures.saAddAeadIfid)
    }

    @Test func saAddAEADInterfaceIDInbound() throws {
        let sa = XfrmState(source: Fixture.b, destination: Fixture.a, spi: 0xc000_0002, reqid: 1, algorithms: Fixture.aead,
                           replay: .window(32), lifetime: XfrmLifetime(softAddSeconds: 3317, hardAddSeconds: 3960),
                           interfaceID: 42, flags: .addressFamilyUnspecified)
        check(try sa.addRequest(), IPRoute2Captures.saAddAeadIfidIn)
    }

    @Test func saAddAEADMark() throws {
        let sa = XfrmState(source: Fixture.a, destination: Fixture.b, spi: 0xc000_0003, reqid: 2, algorithms: Fixture.aead,
                           mark: XfrmMark(value: 42), flags: .addressFamilyUnspecified)
        check(try sa.addRequest(), IPRoute2Captures.saAddAeadMark)
    }

    @Test func saAddESNWindow128() throws {
        let sa = XfrmState(source: Fixture.b, destination: Fixture.a, spi: 0xc000_0004, reqid: 3, algorithms: Fixture.aead,
                           replay: .extendedSequenceNumbers(window: 128), interfaceID: 43)
        check(try sa.addRequest(), IPRoute2Captures.saAddEsnWin128)
    }

    @Test func saAddNATTraversalEncapsulation() throws {
        let sa = XfrmState(source: Fixture.a, destination: Fixture.b, spi: 0xc000_0005, reqid: 4, algorithms: Fixture.aead,
                           encapsulation: XfrmEncapsulation(sourcePort: 4500, destinationPort: 4500), interfaceID: 44)
        // Bytes 250-251 are the 2 padding bytes of xfrm_encap_tmpl after encap_dport: iproute2 does not zero them
        // (the capture holds 00 01 from its stack); the kernel never reads them.
        check(try sa.addRequest(), IPRoute2Captures.saAddNattEncap, padding: [250, 251])
    }

    @Test func saDelete() {
        check(XfrmStateKey(source: Fixture.a, destination: Fixture.b, spi: 0xc000_0005).deleteRequest(), IPRoute2Captures.saDel)
    }

    @Test func saGet() {
        check(XfrmStateKey(source: Fixture.a, destination: Fixture.b, spi: 0xc000_0001).getRequest(), IPRoute2Captures.saGet)
    }

    func routeBasedPolicy(_ dir: XfrmDirection, from s: IPAddress, to d: IPAddress, reqid: UInt32,
                          ifID: UInt32? = nil, mark: XfrmMark? = nil) -> XfrmPolicy {
        XfrmPolicy(selector: .any(.ipv4), direction: dir, priority: 399_999,
                   templates: [XfrmTemplate(source: s, destination: d, reqid: reqid)], interfaceID: ifID, mark: mark)
    }

    @Test func policyAddOutInterfaceID() {
        check(routeBasedPolicy(.outbound, from: Fixture.a, to: Fixture.b, reqid: 1, ifID: 42).addRequest(), IPRoute2Captures.polAddOutIfid)
    }

    @Test func policyAddInInterfaceID() {
        check(routeBasedPolicy(.inbound, from: Fixture.b, to: Fixture.a, reqid: 1, ifID: 42).addRequest(), IPRoute2Captures.polAddInIfid)
    }

    @Test func policyAddForwardInterfaceID() {
        check(routeBasedPolicy(.forward, from: Fixture.b, to: Fixture.a, reqid: 1, ifID: 42).addRequest(), IPRoute2Captures.polAddFwdIfid)
    }

    @Test func policyAddOutMark() {
        check(routeBasedPolicy(.outbound, from: Fixture.a, to: Fixture.b, reqid: 2, mark: XfrmMark(value: 42)).addRequest(),
              IPRoute2Captures.polAddOutMark)
    }

    @Test func policyDeleteForwardInterfaceID() {
        check(XfrmPolicy(selector: .any(.ipv4), direction: .forward, interfaceID: 42).deleteRequest(), IPRoute2Captures.polDelFwdIfid)
    }

    // ip link add ipsec0 type xfrm dev u1 if_id 42   (u1 had ifindex 2)
    @Test func linkAddXfrm() throws {
        check(try Link(name: "ipsec0", kind: .xfrm(ifID: 42, underlyingIndex: 2)).addRequest(), IPRoute2Captures.linkAddXfrm)
    }

    @Test func linkAddXfrmWithoutDevice() throws {
        check(try Link(name: "ipsec1", kind: .xfrm(ifID: 43, underlyingIndex: nil)).addRequest(), IPRoute2Captures.linkAddXfrmNodev)
    }

    // ip link add vti0 type vti local 192.0.2.1 remote 192.0.2.2 key 42
    @Test func linkAddVTI() throws {
        let vti = Link(name: "vti0", kind: .vti(ikey: 42, okey: 42, local: Fixture.a, remote: Fixture.b))
        check(try vti.addRequest(), IPRoute2Captures.linkAddVti)
    }

    @Test func linkSetUp() {
        check(Link.setStateRequest(index: 4, name: "ipsec0", up: true), IPRoute2Captures.linkSetUp)
    }

    @Test func linkDelete() {
        check(Link.deleteRequest(index: 5, name: "ipsec1"), IPRoute2Captures.linkDelXfrm)
    }

    // ip addr add 169.254.0.1/30 dev ipsec0
    @Test func addressAdd() throws {
        let address = LinkAddress(address: Fixture.ip("169.254.0.1"), prefixLength: 30, interfaceIndex: 4)
        check(try address.addRequest(), IPRoute2Captures.addrAdd)
    }

    // ip route add 198.18.2.0/24 dev ipsec0 src 198.18.1.1   (proto boot: what `ip` uses by default)
    @Test func routeAddWithSource() throws {
        let route = Route(destination: Fixture.prefix("198.18.2.0/24"), outputInterface: 4,
                          preferredSource: Fixture.ip("198.18.1.1"), protocolNumber: RouteProtocol.boot)
        check(try route.addRequest(), IPRoute2Captures.routeAddSrc)
    }

    @Test func routeAddThroughTunnel() throws {
        let route = Route(destination: Fixture.prefix("198.18.4.0/24"), outputInterface: 4, protocolNumber: RouteProtocol.boot)
        check(try route.addRequest(), IPRoute2Captures.routeAddViaTun)
    }

    /// The only difference Viaduct's protocol makes is the rtm_protocol byte (offset 16 + 5).
    @Test func viaductProtocolChangesOnlyTheProtocolByte() throws {
        let boot = Route(destination: Fixture.prefix("198.18.4.0/24"), outputInterface: 4, protocolNumber: RouteProtocol.boot)
        var ours = boot
        ours.protocolNumber = RouteProtocol.viaduct
        let a = try boot.addRequest().encoded()
        let b = try ours.addRequest().encoded()
        #expect(a.count == b.count)
        let differing = zip(a, b).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing == [21])
        #expect(b[21] == 222)
    }
}
