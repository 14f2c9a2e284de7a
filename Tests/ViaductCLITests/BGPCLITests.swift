import Foundation
import TestSupport
import Testing

/// `viaduct bgp` output is fed to the real parsers: BIRD's `bird -p` and FRR's `vtysh --dryrun`.
@Suite("viaduct bgp against BIRD and FRR")
struct BGPCLITests {
    let cli = CLITests()

    func tool(_ name: String) -> String? {
        ["/usr/sbin/\(name)", "/usr/bin/\(name)"].first(where: FileManager.default.isExecutableFile)
    }

    func check(_ path: String, _ args: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
        let r = try TestProcess.run(path, args, environment: environment)
        return (r.status, r.output)
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

    /// bgp.password-file: refused when group or others may read it, or when it is not one clean line;
    /// otherwise on every session, and BIRD parses the result.
    @Test("bgp.password-file: mode and contents checked, the password on every session")
    func passwordFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vd-bgp-pw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = try String(contentsOfFile: "Topologies/mesh-three-dc.yaml", encoding: .utf8)
            .replacingOccurrences(of: "\ngateways:", with: "\nbgp: { password-file: bgp.pw }\ngateways:")
        let topology = dir.appendingPathComponent("mesh.yaml").path
        try yaml.write(toFile: topology, atomically: true, encoding: .utf8)
        let pw = dir.appendingPathComponent("bgp.pw").path
        func writePassword(_ text: String, mode: Int) throws {
            try? FileManager.default.removeItem(atPath: pw)
            try text.write(toFile: pw, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: pw)
        }
        try writePassword("Tunnel-Pw-1\n", mode: 0o644)
        let open = try cli.viaduct("bgp", topology, "--node", "dc1")
        #expect(open.status == 1 && open.stderr.contains("BGP password file \(pw) is accessible by group or others"), "\(open.stderr)")
        try writePassword("two words\n", mode: 0o600)
        let spaced = try cli.viaduct("bgp", topology, "--node", "dc1", "--format", "frr")
        #expect(spaced.status == 1 && spaced.stderr.contains("without spaces, quotes or backslashes"), "\(spaced.stderr)")
        try writePassword("Tunnel-Pw-1\n", mode: 0o600)
        let r = try cli.viaduct("bgp", topology, "--node", "dc1")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.components(separatedBy: "    password \"Tunnel-Pw-1\";\n").count - 1 == 2)
        guard let bird = tool("bird") else { return }
        let snippet = try write(r.stdout, "viaduct.conf")
        let main = try write("router id 192.0.2.1;\nprotocol device {}\ninclude \"\(snippet)\";\n", "bird.conf")
        let (status, out) = try check(bird, ["-p", "-c", main])
        #expect(status == 0, "bird -p rejected it: \(out)")
    }

    @Test("bgp refuses an unknown node and an unknown format")
    func refusals() throws {
        #expect(try cli.viaduct("bgp", "Topologies/dci-two-site.yaml", "--node", "dc9").status == 1)
        let f = try cli.viaduct("bgp", "Topologies/dci-two-site.yaml", "--node", "dc1", "--format", "quagga")
        #expect(f.status != 0 && f.stderr.contains("quagga"))
    }

    /// Deploy/bird/viaduct-bird-reload: writes the include, checks it with the real `bird -p`,
    /// reconfigures only on change, and keeps the old file when BIRD would refuse the new one.
    @Test("viaduct-bird-reload regenerates the include and reconfigures BIRD only when it changed")
    func birdReloadHook() throws {
        guard let bird = tool("bird") else {
            print("skipped: install bird2 (Scripts/deps does)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vd-bird-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let include = dir.appendingPathComponent("viaduct.conf").path
        let conf = dir.appendingPathComponent("bird.conf").path
        let log = dir.appendingPathComponent("birdc.log").path
        let birdc = dir.appendingPathComponent("birdc").path
        try "router id 192.0.2.1;\nprotocol device {}\ninclude \"\(include)\";\n".write(toFile: conf, atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho \"$@\" >> \(log)\n".write(toFile: birdc, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: birdc)
        func reload(_ topology: String) throws -> (Int32, String) {
            try check("/bin/sh", [CLITests.root.appendingPathComponent("Deploy/bird/viaduct-bird-reload").path, "dc1"], environment: [
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "VIADUCT": CLITests.binary.path,
                "TOPOLOGY": CLITests.root.appendingPathComponent(topology).path,
                "BIRD_INCLUDE": include, "BIRD_CONF": conf, "BIRD": bird, "BIRDC": birdc,
            ])
        }
        let calls = { (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
        var r = try reload("Topologies/dci-two-site.yaml")
        #expect(r.0 == 0, "\(r.1)")
        #expect(calls() == 1)
        #expect(try String(contentsOfFile: include, encoding: .utf8).contains("protocol bgp"))
        r = try reload("Topologies/dci-two-site.yaml")
        #expect(r.0 == 0 && r.1.contains("unchanged"), "\(r.1)")
        #expect(calls() == 1, "no reconfigure when nothing changed")
        r = try reload("Topologies/mesh-three-dc.yaml")
        #expect(r.0 == 0, "\(r.1)")
        #expect(calls() == 2)
        // A bird.conf that no longer parses with the new file: the old include stays, no reconfigure.
        let before = try String(contentsOfFile: include, encoding: .utf8)
        try "router id 192.0.2.1;\nprotocol device {}\ninclude \"\(include)\";\nprotocol bgp broken { neighbor; }\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        r = try reload("Topologies/dci-two-site.yaml")
        #expect(r.0 == 1 && r.1.contains("kept the old"), "\(r.1)")
        #expect(try String(contentsOfFile: include, encoding: .utf8) == before)
        #expect(calls() == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".new.") || $0.contains(".old.") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("FRR output says how to apply it; --no-router-id leaves the router-id out")
    func frrRouterID() throws {
        let with = try cli.viaduct("bgp", "Topologies/cloud-vpn-redundant.yaml", "--node", "onprem", "--format", "frr")
        #expect(with.status == 0 && with.stdout.contains(" bgp router-id ") && with.stdout.contains("frr-reload.py --reload"))
        let without = try cli.viaduct("bgp", "Topologies/cloud-vpn-redundant.yaml", "--node", "onprem", "--format", "frr", "--no-router-id")
        #expect(without.status == 0 && !without.stdout.contains(" bgp router-id ") && without.stdout.contains("router bgp"))
    }
}
