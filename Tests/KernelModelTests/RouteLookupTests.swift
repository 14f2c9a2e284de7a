import KernelModel
import NetTypes
import Testing

/// RTM_GETROUTE for one destination (`ip route get`), with and without the source address the
/// packets leave from (`ip route get DST from SRC`, which policy routing rules match on).
struct RouteLookupTests {
    @Test func withoutSourceOnlyTheDestination() throws {
        let r = Route.lookupRequest(to: try #require(IPAddress("198.51.100.9")))
        // rtmsg: family AF_INET, dst_len 32, src_len 0, the rest 0; RTA_DST.
        #expect(r.message.payload == [2, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] + [8, 0, 1, 0, 198, 51, 100, 9])
    }

    @Test func withSourceRTASrcAndItsLength() throws {
        let r = Route.lookupRequest(to: try #require(IPAddress("198.51.100.9")), from: IPAddress("192.0.2.1"))
        #expect(r.message.payload == [2, 32, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0] + [8, 0, 1, 0, 198, 51, 100, 9] + [8, 0, 2, 0, 192, 0, 2, 1])
        let v6 = Route.lookupRequest(to: try #require(IPAddress("2001:db8::9")), from: IPAddress("2001:db8::1"))
        #expect(Array(v6.message.payload[0..<3]) == [10, 128, 128])
        #expect(v6.message.payload.count == 12 + 20 + 20)
    }

    /// A wildcard-bound end (unspecified) or another family asks the main lookup.
    @Test func anUnspecifiedOrForeignSourceIsLeftOut() throws {
        let dst = try #require(IPAddress("198.51.100.9"))
        let plain = Route.lookupRequest(to: dst).message.payload
        #expect(Route.lookupRequest(to: dst, from: .v4(0)).message.payload == plain)
        #expect(Route.lookupRequest(to: dst, from: IPAddress("2001:db8::1")).message.payload == plain)
    }
}
