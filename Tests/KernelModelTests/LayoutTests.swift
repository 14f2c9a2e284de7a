import KernelModel
import TestSupport
import Testing
import Topology

/// The fixed kernel structures must have their exact linux/xfrm.h / rtnetlink.h sizes, measured from what
/// the encoders write (message length minus header minus attributes), not from our own constants alone.
@Suite("Kernel structure layouts")
struct LayoutTests {
    static let sa = XfrmState(source: Fixture.a, destination: Fixture.b, spi: 1, reqid: 1, algorithms: nil)

    @Test func usersaInfoIs224Bytes() throws {
        #expect(XfrmState.usersaInfoSize == 224)
        #expect(try Self.sa.addRequest().message.payload.count == 224)
    }

    @Test func userpolicyInfoIs168Bytes() {
        #expect(XfrmPolicy.userpolicyInfoSize == 168)
        #expect(XfrmPolicy(selector: .any(.ipv4), direction: .outbound).addRequest().message.payload.count == 168)
        #expect(XfrmSocketPolicy.bypass(direction: .inbound, family: .ipv6).count == 168)
    }

    @Test func userpolicyIDIs64Bytes() {
        #expect(XfrmPolicy(selector: .any(.ipv6), direction: .forward).deleteRequest().message.payload.count == XfrmPolicy.userpolicyIDSize)
        #expect(XfrmPolicy.userpolicyIDSize == 64)
    }

    @Test func templateIs64BytesPlusHeader() {
        let p = XfrmPolicy(selector: .any(.ipv4), direction: .outbound,
                           templates: [XfrmTemplate(source: Fixture.a, destination: Fixture.b, reqid: 1),
                                       XfrmTemplate(source: Fixture.a, destination: Fixture.b, reqid: 2)])
        #expect(p.addRequest().message.payload.count == 168 + 4 + 2 * XfrmTemplate.size)
        #expect(XfrmTemplate.size == 64)
    }

    @Test func usersaIDIs24BytesPlusSourceAttribute() {
        #expect(XfrmStateKey(source: Fixture.a, destination: Fixture.b, spi: 1).deleteRequest().message.payload.count == 24 + 20)
    }

    @Test func userspiInfoIs232Bytes() throws {
        let request = try XfrmSPIRequest(source: Fixture.b, destination: Fixture.a, reqid: 3).allocateRequest()
        #expect(request.message.payload.count == XfrmSPIRequest.userspiInfoSize)
        #expect(XfrmSPIRequest.userspiInfoSize == 232)
        // min and max follow the 224-byte info, host order.
        #expect(Array(request.message.payload[224..<232]) == [0, 0, 0, 0xc0, 0xff, 0xff, 0xff, 0xcf])
    }

    @Test func expireAndAcquireSizes() {
        #expect(XfrmExpire.size == 232)
        #expect(XfrmAcquire.size == 280)
        #expect(XfrmSelector.size == 56)
        #expect(XfrmLifetime.size == 64)
        #expect(XfrmLifetimeCurrent.size == 32)
    }

    @Test func rtnetlinkHeaders() throws {
        #expect(Link.deleteRequest(index: 1, name: "x").message.payload.count == 16)   // ifinfomsg
        #expect(LinkAddress.dumpRequest().message.payload.count == 8)                 // ifaddrmsg
        #expect(Route.dumpRequest(family: .ipv4).message.payload.count == 12)         // rtmsg
    }

    /// AEAD attribute: 4 header + 64 name + 4 key bits + 4 ICV bits + 36-byte key = 112, as captured.
    @Test func aeadAttributeLength() throws {
        var sa = Self.sa
        sa.algorithms = Fixture.aead
        #expect(try sa.addRequest().message.payload.count == 224 + 112)
    }
}
