#if canImport(Glibc)
import Foundation
import Glibc
import NetTypes
import TestSupport
#endif
import KernelModel
import KernelDataplane
import Testing

/// `mtu: auto` reads the underlay path MTU from the kernel: the route's RTAX_MTU when it has
/// one, else the output link's MTU; no route, no answer. In a fresh network namespace.
@Suite("Path MTU lookup (root, fresh netns)", .serialized)
struct PathMTULookupTests {
    @Test func routeMTUElseLinkMTUElseNothing() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        try await FreshNetworkNamespace.run("pmtu") { ns in
            let rt = try NetlinkSocket(.route)
            try TunDevice.createPersistent(name: "vd-u0")
            let index = try HostKernelTests.index(of: "vd-u0", in: rt)
            try rt.apply([Link.setMTURequest(index: index, name: "vd-u0", mtu: 1400),
                          Link.setStateRequest(index: index, name: "vd-u0", up: true)])
            let a = LinkAddress(address: Fixture.ip("192.0.2.1"), prefixLength: 24, interfaceIndex: index)
            try rt.apply([try a.addRequest(interfaceName: "vd-u0")])
            let r = Route(destination: Fixture.prefix("198.51.100.0/24"), outputInterface: index, mtu: 1300)
            try rt.apply([try r.addRequest(interfaceName: "vd-u0")])
            #expect(try rt.pathMTU(to: Fixture.ip("192.0.2.9")) == 1400)
            #expect(try rt.pathMTU(to: Fixture.ip("198.51.100.9")) == 1300)
            #expect(try rt.pathMTU(to: Fixture.ip("203.0.113.1")) == nil)
            #expect(try rt.pathMTU(to: Fixture.ip("2001:db8::1")) == nil)
        }
    }

    /// Policy routing: packets from 192.0.2.1 take table 100, where the route to the peer has
    /// MTU 1300; the main table's says 1400. Asked with the source, the lookup follows the rule.
    @Test func theSourceAddressSelectsThePolicyRoutedTable() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        try await FreshNetworkNamespace.run("pmtu-rule") { ns in
            let rt = try NetlinkSocket(.route)
            try TunDevice.createPersistent(name: "vd-u0")
            let index = try HostKernelTests.index(of: "vd-u0", in: rt)
            try rt.apply([Link.setMTURequest(index: index, name: "vd-u0", mtu: 1500),
                          Link.setStateRequest(index: index, name: "vd-u0", up: true)])
            let a = LinkAddress(address: Fixture.ip("192.0.2.1"), prefixLength: 24, interfaceIndex: index)
            try rt.apply([try a.addRequest(interfaceName: "vd-u0")])
            try rt.apply([try Route(destination: Fixture.prefix("198.51.100.0/24"), outputInterface: index, mtu: 1400)
                .addRequest(interfaceName: "vd-u0")])
            for args in [["route", "add", "198.51.100.0/24", "dev", "vd-u0", "mtu", "1300", "table", "100"],
                         ["rule", "add", "from", "192.0.2.1", "lookup", "100", "priority", "100"]] {
                let r = try FreshNetworkNamespace.ip(["-n", ns] + args)
                #expect(r.status == 0, "ip \(args.joined(separator: " ")): \(r.output)")
            }
            #expect(try rt.pathMTU(to: Fixture.ip("198.51.100.9")) == 1400)
            #expect(try rt.pathMTU(to: Fixture.ip("198.51.100.9"), from: Fixture.ip("192.0.2.1")) == 1300)
        }
    }
}
