#if canImport(Glibc)
import Foundation
import Glibc
import TestSupport
#endif
import KernelModel
import KernelDataplane
import Testing

/// `mss-clamp` on the kernel data plane: Viaduct's own `table inet viaduct` through libnftables,
/// installed, listed, replaced and removed in a fresh network namespace (a dummy link stands in
/// for the tunnel interface), while a foreign table stays exactly as it was.
@Suite("nftables MSS clamp (root, fresh netns)", .serialized)
struct NftablesMSSClampTests {
    static func rules(_ json: String) throws -> [[String: Any]] {
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let items = try #require(obj["nftables"] as? [[String: Any]])
        return items.compactMap { $0["rule"] as? [String: Any] }
    }

    @Test func installListReplaceRemoveLeavesForeignTablesAlone() async throws {
        if HostKernelTests.skipUnlessRoot() { return }
        try await FreshNetworkNamespace.run("nft") { ns in
            try TunDevice.createPersistent(name: "vd-b")
            let nft = try Nftables()
            // Someone else's table, with a rule in a forward chain.
            try nft.run("table inet other { chain other_forward { type filter hook forward priority 0; policy accept; tcp dport 22 counter; }; }", context: "foreign")
            let foreign = try #require(nft.run("list table inet other", json: true, context: "list foreign") as String?)

            try nft.apply([MSSClampRule(interface: "vd-b", ipv4: 1398, ipv6: 1378)])
            let listed = try #require(nft.listTable())
            let r = try Self.rules(listed)
            #expect(r.count == 4)
            #expect(listed.contains("\"vd-b\""))
            #expect(listed.contains("1398") && listed.contains("1378"))
            #expect(listed.contains("maxseg"))

            // Replaced in place: another MTU, a second tunnel.
            try nft.apply([MSSClampRule(interface: "vd-b", ipv4: 1300, ipv6: 1280),
                           MSSClampRule(interface: "vd-c", ipv4: 1360, ipv6: 1340)])
            let replaced = try #require(nft.listTable())
            #expect(try Self.rules(replaced).count == 8)
            #expect(!replaced.contains("1398"))

            // The tunnel goes: its rules go.
            try nft.apply([MSSClampRule(interface: "vd-c", ipv4: 1360, ipv6: 1340)])
            #expect(try Self.rules(try #require(nft.listTable())).count == 4)

            // Down: the table goes, twice is fine, the foreign table is untouched.
            try nft.apply([])
            try nft.apply([])
            #expect(nft.listTable() == nil)
            #expect(try nft.run("list table inet other", json: true, context: "list foreign") == foreign)
        }
    }

    @Test func badInterfaceNamesAreRefusedBeforeNftSeesThem() throws {
        let nft = try Nftables()
        #expect(throws: NftablesError.self) { try nft.apply([MSSClampRule(interface: "a\" drop", ipv4: 1300, ipv6: 1280)]) }
    }
}
