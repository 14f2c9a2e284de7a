@testable import Daemon
import Foundation
import KernelDataplane
import KernelModel
import Testing

/// `viaduct down` in a namespace of our own: Viaduct's TUN interface goes, another one stays.
@Suite(.serialized)
struct KernelTeardownTests {
    @Test func removesViaductsInterfaceAndLeavesOthers() throws {
        guard TestNamespace.isRoot else {
            print("SKIP removesViaductsInterfaceAndLeavesOthers: needs root for network namespaces")
            return
        }
        let ns = try TestNamespace(prefix: "vdt-down")
        defer { ns.remove() }
        try TestNamespace.ip(["-n", ns.name, "tuntap", "add", "dev", "vd-down", "mode", "tun"])
        try TestNamespace.ip(["-n", ns.name, "tuntap", "add", "dev", "keep0", "mode", "tun"])
        var lines: [String] = []
        let removed = try ns.inside { try KernelTeardown.run(planNames: [], planBindings: []) { lines.append($0) } }
        #expect(removed == 1 && lines.count == 1 && lines.first?.contains("vd-down") == true, "\(lines)")
        let links = try ns.inside { try KernelTeardown.run(planNames: [], planBindings: []) { _ in } }
        #expect(links == 0)
        let left = Process()
        left.executableURL = URL(fileURLWithPath: "/sbin/ip")
        left.arguments = ["-n", ns.name, "-o", "link", "show"]
        let out = Pipe()
        left.standardOutput = out
        try left.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        left.waitUntilExit()
        #expect(text.contains("keep0") && !text.contains("vd-down"), "\(text)")
    }

    /// `mss-clamp` on the kernel plane: `down` removes `table inet viaduct` and no other table.
    @Test func removesViaductsNftablesTableAndLeavesOthers() throws {
        guard TestNamespace.isRoot else {
            print("SKIP removesViaductsNftablesTableAndLeavesOthers: needs root for network namespaces")
            return
        }
        let ns = try TestNamespace(prefix: "mtu-down")
        defer { ns.remove() }
        try TestNamespace.ip(["-n", ns.name, "tuntap", "add", "dev", "vd-down", "mode", "tun"])
        let before: String? = try ns.inside {
            let nft = try Nftables()
            try nft.run("table ip other { chain c { type filter hook forward priority 0; policy accept; }; }", context: "foreign")
            try nft.apply([MSSClampRule(interface: "vd-down", ipv4: 1360, ipv6: 1340)])
            return nft.listTable()
        }
        #expect(before?.contains("maxseg") == true)
        var lines: [String] = []
        _ = try ns.inside { try KernelTeardown.run(planNames: [], planBindings: []) { lines.append($0) } }
        #expect(lines.contains { $0.contains("nftables table inet viaduct") }, "\(lines)")
        let (after, foreign): (String?, String) = try ns.inside {
            let nft = try Nftables()
            return (nft.listTable(), try nft.run("list table ip other", context: "foreign"))
        }
        #expect(after == nil)
        #expect(foreign.contains("chain c"))
    }
}
