import KernelModel
import NetTypes
import TestSupport
import Testing
import Topology

@Suite("Decoding kernel replies")
struct DecodeTests {
    static func message(_ text: String) throws -> NetlinkMessage {
        let all = try NetlinkMessage.decodeAll(hex(text))
        try #require(all.count == 1)
        return all[0]
    }

    /// The kernel's answer to `ip xfrm state get` decodes to the SA that `sa-add-aead-ifid` installed.
    @Test func getSAReplyDecodesToTheInstalledSA() throws {
        let sa = try XfrmState(decoding: try Self.message(IPRoute2Captures.saGetReply))
        #expect(sa == XfrmState(source: Fixture.a, destination: Fixture.b, spi: 0xc000_0001, reqid: 1, algorithms: Fixture.aead,
                                replay: .window(0), lifetime: XfrmLifetime(softAddSeconds: 3537, hardAddSeconds: 3960),
                                interfaceID: 42, flags: .addressFamilyUnspecified))
    }

    @Test func xfrmLinkReplyDecodes() throws {
        let link = try ObservedLink(decoding: try Self.message(IPRoute2Captures.xfrmLinkReply))
        #expect(link.index == 4)
        #expect(link.link == Link(name: "ipsec0", kind: .xfrm(ifID: 42, underlyingIndex: 2), mtu: 1500, up: false))
    }

    @Test func cappedAckDecodes() throws {
        let ack = try NetlinkAck(decoding: try Self.message(IPRoute2Captures.linkAddAck))
        #expect(ack.isSuccess)
        #expect(ack.requestType == RouteMessageType.newLink)
        #expect(ack.requestSequence == Fixture.header(IPRoute2Captures.linkAddXfrm).seq)
    }

    /// iproute2's probe gets an uncapped ENODEV error that echoes the whole request.
    @Test func uncappedErrorDecodes() throws {
        let ack = try NetlinkAck(decoding: try Self.message(IPRoute2Captures.probeError))
        #expect(ack.errno == 19)
        #expect(ack.requestType == RouteMessageType.newLink)
        #expect(ack.message == nil)
    }

    @Test func extendedAckTextDecodes() throws {
        let request = try Route(destination: Fixture.prefix("198.18.2.0/24"), outputInterface: 7).addRequest().numbered(sequence: 9).message
        let reply = NetlinkAck.encode(errno: 17, request: request, portID: 0, message: "Route exists")
        let decoded = try NetlinkAck(decoding: try Self.message(hexString(reply.encoded())))
        #expect(decoded == NetlinkAck(errno: 17, requestType: RouteMessageType.newRoute, requestSequence: 9, message: "Route exists"))
    }

    /// A dump reply stream: several messages in one buffer, then NLMSG_DONE.
    @Test func multipartBufferSplits() throws {
        let a = try LinkAddress(address: Fixture.ip("169.254.0.1"), prefixLength: 30, interfaceIndex: 4).addRequest()
        var newAddr = a.message
        newAddr.flags = [.multi]
        let done = NetlinkMessage(type: NetlinkControl.done, flags: [.multi], payload: [0, 0, 0, 0])
        let buffer = newAddr.encoded() + newAddr.encoded() + done.encoded()
        let messages = try NetlinkMessage.decodeAll(buffer)
        #expect(messages.map(\.type) == [RouteMessageType.newAddress, RouteMessageType.newAddress, NetlinkControl.done])
        #expect(try LinkAddress(decoding: messages[0]) == LinkAddress(address: Fixture.ip("169.254.0.1"), prefixLength: 30, interfaceIndex: 4))
    }

    /// EXPIRE is an xfrm_usersa_info, the hard flag and the SA's attributes: built from the captured SA.
    @Test func expireDecodesSoftAndHard() throws {
        let captured = try XfrmState(decoding: try Self.message(IPRoute2Captures.saGetReply))
        for hard in [false, true] {
            let wire = try XfrmExpire(state: captured, hard: hard).encoded().encoded()
            let event = try XfrmEvent(decoding: try Self.message(hexString(wire)))
            #expect(event == .expire(XfrmExpire(state: captured, hard: hard)))
        }
    }

    @Test func otherXfrmMessagesAreReportedByType() throws {
        let m = NetlinkMessage(type: XfrmMessageType.deleteSA, flags: [], payload: [])
        #expect(try XfrmEvent(decoding: m) == .other(type: XfrmMessageType.deleteSA))
    }

    // Encode → decode round trips for every value type, both families.

    @Test(arguments: [IPAddress.Family.ipv4, .ipv6])
    func stateRoundTrip(family: IPAddress.Family) throws {
        let (s, d) = family == .ipv4 ? (Fixture.a, Fixture.b) : (Fixture.ip("2001:db8::1"), Fixture.ip("2001:db8::2"))
        let states = [
            XfrmState(source: s, destination: d, spi: 0xc123_4567, reqid: 9, algorithms: Fixture.aead,
                      replay: .extendedSequenceNumbers(window: 1024),
                      lifetime: XfrmLifetime(softBytes: 1 << 40, hardBytes: 1 << 41, softPackets: 1 << 30, hardPackets: 1 << 31,
                                             softAddSeconds: 3000, hardAddSeconds: 3600),
                      encapsulation: XfrmEncapsulation(sourcePort: 4500, destinationPort: 4501), interfaceID: 7,
                      flags: .addressFamilyUnspecified),
            XfrmState(source: s, destination: d, spi: 0x100, reqid: 2,
                      algorithms: .cipherAndAuth(cipher: "cbc(aes)", cipherKey: Array(repeating: 7, count: 16),
                                                 auth: "hmac(sha256)", authKey: Array(repeating: 9, count: 32), truncationBits: 128),
                      replay: .window(64), mark: XfrmMark(value: 0x2a, mask: 0xff)),
        ]
        for sa in states {
            var reply = try sa.addRequest().message
            reply.type = XfrmMessageType.newSA
            #expect(try XfrmState(decoding: reply) == sa)
        }
    }

    @Test(arguments: [IPAddress.Family.ipv4, .ipv6])
    func policyRoundTrip(family: IPAddress.Family) throws {
        let p = XfrmPolicy(selector: .any(family), direction: .forward, priority: 10, index: 0,
                           templates: [XfrmTemplate(source: Fixture.a, destination: Fixture.b, reqid: 3)],
                           mark: XfrmMark(value: 5))
        #expect(try XfrmPolicy(decoding: p.addRequest().message) == p)
    }

    @Test func linkRoundTrips() throws {
        for link in [Link(name: "vd-dc2", kind: .xfrm(ifID: 42, underlyingIndex: 3), mtu: 1400, up: true),
                     Link(name: "vd-vti", kind: .vti(ikey: 7, okey: 8, local: Fixture.a, remote: Fixture.b)),
                     Link(name: "vd-vti6", kind: .vti(ikey: 1, okey: 1, local: Fixture.ip("2001:db8::1"), remote: Fixture.ip("2001:db8::2")))] {
            #expect(try ObservedLink(decoding: link.addRequest().message).link == link)
        }
    }

    @Test func routeAndAddressRoundTrip() throws {
        let routes = [
            Route(destination: Fixture.prefix("198.18.2.0/24"), outputInterface: 4, preferredSource: Fixture.ip("198.18.1.1")),
            Route(destination: Fixture.prefix("2001:db8:5::/48"), outputInterface: 9, gateway: Fixture.ip("2001:db8::9"),
                  table: 1000, priority: 50, mtu: 1300, advertisedMSS: 1260),
        ]
        for route in routes {
            var m = try route.addRequest().message
            m.type = RouteMessageType.newRoute
            #expect(try Route(decoding: m) == route)
        }
        let peer = LinkAddress(address: Fixture.ip("169.254.0.1"), prefixLength: 32, peer: Fixture.ip("169.254.0.2"), interfaceIndex: 3)
        #expect(try LinkAddress(decoding: peer.addRequest().message) == peer)
    }

    @Test func requestsThatCannotBeEncodedAreTypedErrors() {
        #expect(throws: KernelModelError(.notCreatableByNetlink, "link vd-t type tun: create it through /dev/net/tun or another tool")) {
            try Link(name: "vd-t", kind: .tun).addRequest()
        }
        #expect { try Link(name: "vd-a-name-that-is-too-long", kind: .xfrm(ifID: 1, underlyingIndex: nil)).addRequest() } throws: {
            ($0 as? KernelModelError)?.code == .fieldTooLong
        }
        #expect { try Route(destination: Fixture.prefix("198.18.2.0/24"), outputInterface: 1, gateway: Fixture.ip("2001:db8::1")).addRequest() } throws: {
            ($0 as? KernelModelError)?.code == .familyMismatch
        }
        let longName = XfrmAlgorithms.aead(name: String(repeating: "x", count: 64), key: [1], icvBits: 128)
        #expect { try XfrmState(source: Fixture.a, destination: Fixture.b, spi: 1, reqid: 1, algorithms: longName).addRequest() } throws: {
            ($0 as? KernelModelError)?.code == .fieldTooLong
        }
        #expect { try XfrmState(source: Fixture.a, destination: Fixture.ip("2001:db8::1"), spi: 1, reqid: 1, algorithms: nil).addRequest() } throws: {
            ($0 as? KernelModelError)?.code == .familyMismatch
        }
    }
}
