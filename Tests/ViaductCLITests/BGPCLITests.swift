import Foundation
import Testing

/// `viaduct bgp` output is fed to the real parsers: BIRD's `bird -p` and FRR's `vtysh --dryrun`.
@Suite("viaduct bgp against BIRD and FRR")
struct BGPCLITests {
    let cli = CLITests()

    func tool(_ name: String) -> String? {
        ["/usr/sbin/\(name)", "/usr/bin/\(name)"].first(where: FileManager.default.isExecutableFile)
    }

    func check(_ path: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, out)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vd-bgp-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("BIRD 2 parses the generated configuration for every BGP node of the examples", arguments: [
        ("dci-two-site.yaml", "dc1"), ("dci-two-site.yaml", "dc2"), ("mesh-three-dc.yaml", "dc3"),
        ("cloud-vpn-redundant.yaml", "onprem"),
    ])
    func bird(file: String, node: String) throws {
        let r = try cli.viaduct("bgp", "Topologies/\(file)", "--node", node, "--format", "bird")
        #expect(r.status == 0, "\(r.stderr)")
        guard let bird = tool("bird") else {
            print("skipped the BIRD parse check: install bird2 (Scripts/deps does)")
            return
        }
        let snippet = try write(r.stdout, "viaduct.conf")
        let main = try write("router id 192.0.2.1;\nprotocol device {}\ninclude \"\(snippet)\";\n", "bird.conf")
        let (status, out) = try check(bird, ["-p", "-c", main])
        #expect(status == 0, "bird -p rejected it: \(out)")
    }

    @Test("FRR parses the generated configuration", arguments: [
        ("dci-two-site.yaml", "dc1"), ("mesh-three-dc.yaml", "dc2"), ("cloud-vpn-redundant.yaml", "onprem"),
    ])
    func frr(file: String, node: String) throws {
        let r = try cli.viaduct("bgp", "Topologies/\(file)", "--node", node, "--format", "frr")
        #expect(r.status == 0, "\(r.stderr)")
        guard let vtysh = tool("vtysh") else {
            print("skipped the FRR parse check: install frr (Scripts/deps does)")
            return
        }
        let (status, out) = try check(vtysh, ["--dryrun", "-f", try write(r.stdout, "frr.conf")])
        #expect(status == 0, "vtysh --dryrun rejected it: \(out)")
    }

    @Test("bgp refuses an unknown node and an unknown format")
    func refusals() throws {
        #expect(try cli.viaduct("bgp", "Topologies/dci-two-site.yaml", "--node", "dc9").status == 1)
        let f = try cli.viaduct("bgp", "Topologies/dci-two-site.yaml", "--node", "dc1", "--format", "quagga")
        #expect(f.status != 0 && f.stderr.contains("quagga"))
    }
}
