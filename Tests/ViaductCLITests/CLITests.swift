import Daemon
import Foundation
import TestSupport
import Testing

/// Runs the real `viaduct` binary: exit codes, stdout/stderr, and the JSON form of `plan`.
@Suite("viaduct command line")
struct CLITests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The binary sits beside the test bundle in the build directory.
    static let binary: URL = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("viaduct")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return dir.appendingPathComponent("viaduct")
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func viaduct(_ args: String...) throws -> Run { try viaduct(args) }

    func viaduct(_ args: [String]) throws -> Run { try run(Self.binary, args) }

    /// Runs `executable` in the checkout's root, stdout and stderr apart.
    func run(_ executable: URL, _ args: [String]) throws -> Run {
        let r = try TestProcess.runSeparating(executable, args, in: Self.root)
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    /// A copy of an example with empty stand-ins for its certificate, key and CA files.
    func exampleWithFiles(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pki"), withIntermediateDirectories: true)
        let text = try String(contentsOf: Self.root.appendingPathComponent("Topologies/\(name)"), encoding: .utf8)
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        for match in text.matches(of: /pki\/[a-z0-9.-]+/) {
            try Data().write(to: dir.appendingPathComponent(String(match.output)))
        }
        return dir.appendingPathComponent(name).path
    }

    /// The BuildVersion plugin stamps `git describe` of this checkout.
    @Test("--version is the checkout's git describe")
    func version() throws {
        let r = try viaduct("--version")
        #expect(r.status == 0)
        let printed = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // What the BuildVersion plugin stamps: a v-tag's describe without the v, else 0.0.0-g<sha>.
        let git = try run(URL(fileURLWithPath: "/usr/bin/git"), ["-C", Self.root.path, "describe", "--tags", "--always", "--match", "v[0-9]*"])
        #expect(!printed.isEmpty && printed != "unknown")
        guard git.status == 0 else { return }  // not a git checkout: nothing to compare with
        let described = git.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = described.hasPrefix("v") ? String(described.dropFirst()) : "0.0.0-g" + described
        #expect(printed.hasPrefix(expected), "\(printed) is git describe's \(described)")
    }

    @Test("--help lists the commands")
    func help() throws {
        let r = try viaduct("--help")
        #expect(r.status == 0)
        for word in ["validate", "plan", "bench", "confirm", "rollback"] { #expect(r.stdout.contains(word)) }
    }

    @Test("usage errors are printed in the commands' style, exit 1")
    func usageErrorStyle() throws {
        let r = try viaduct("plan", "Topologies/dci-two-site.yaml")
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("viaduct: error: "), "\(r.stderr)")
        #expect(!r.stderr.contains("Error: "))
        #expect(r.stderr.contains("--node"))
        let unknown = try viaduct("frobnicate")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.hasPrefix("viaduct: error: "), "\(unknown.stderr)")
    }

    @Test("events --help names every event kind the daemon sends")
    func eventsHelp() throws {
        let r = try viaduct("events", "--help")
        #expect(r.status == 0)
        #expect(TunnelEvent.Kind.allCases.count == 17)
        for kind in TunnelEvent.Kind.allCases {
            #expect(r.stdout.contains(kind.rawValue), "\(kind.rawValue)")
            #expect(kind.summary.count <= 57, "one 80-column help line: \(kind.rawValue)")
        }
    }

    @Test("validate: 0 for every example")
    func validateExamples() throws {
        for name in ["dci-two-site", "mesh-three-dc", "hub-branches", "cloud-vpn-redundant", "ipv6-underlay"] {
            let r = try viaduct("validate", "Topologies/\(name).yaml")
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(r.stdout.contains("valid"))
        }
    }

    @Test("validate: 1 with FILE:LINE:COLUMN diagnostics on stderr, nothing on stdout")
    func validateInvalid() throws {
        let r = try viaduct("validate", "Topologies/invalid/unknown-keys.yaml")
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        let expected = try String(contentsOf: Self.root.appendingPathComponent("Topologies/invalid/unknown-keys.expected"), encoding: .utf8)
        #expect(r.stderr.hasPrefix(expected))
        #expect(r.stderr.contains("5 errors; nothing was changed"))
    }

    @Test("missing files, directories and binary garbage are user errors, not crashes")
    func unreadable() throws {
        let missing = try viaduct("validate", "no/such/file.yaml")
        #expect(missing.status == 1 && missing.stderr.contains("no/such/file.yaml: error: no such file"))
        #expect(try viaduct("validate", "Topologies").status == 1)
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("garbage-\(UUID().uuidString).yaml")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: garbage)
        let g = try viaduct("validate", garbage.path)
        #expect(g.status == 1 && g.stderr.contains("error:"))
    }

    @Test("plan: table, and JSON with the documented fields")
    func planOutput() throws {
        let file = try exampleWithFiles("dci-two-site.yaml")
        let table = try viaduct("plan", file, "--node", "dc1")
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("vd-dc2") && table.stdout.contains("169.254.10.1/30") && table.stdout.contains("initiator"))
        let json = try viaduct("plan", file, "--node", "dc2", "--json")
        #expect(json.status == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(obj["format_version"] as? Int == 1)
        #expect(obj["node"] as? String == "dc2")
        let tunnels = try #require(obj["tunnels"] as? [[String: Any]])
        let iface = try #require(tunnels.first?["interface"] as? [String: Any])
        #expect(iface["name"] as? String == "vd-dc1")
        #expect((iface["addresses"] as? [[String: Any]])?.first?["local"] as? String == "169.254.10.2")
        #expect((tunnels.first?["ike"] as? [String: Any])?["role"] as? String == "responder")
    }

    @Test("as root, plan compares with this kernel and lists what it would change")
    func planAgainstKernel() throws {
        guard getuid() == 0 else {
            print("skipped: plan compares with the kernel only as root")
            return
        }
        let file = try exampleWithFiles("hub-branches.yaml")
        let r = try viaduct("plan", file, "--node", "hq")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("against this kernel"), "\(r.stdout)")
        // Nothing of hq's exists on this machine: its interfaces, addresses and routes are all listed.
        #expect(r.stdout.contains("+ link vd-branch-a") && r.stdout.contains("+ route 198.18.22.0/24 dev vd-branch-b proto viaduct"))
        #expect(!(try viaduct("plan", file, "--node", "hq", "--no-kernel")).stdout.contains("against this kernel"))
    }

    @Test("plan refuses unknown nodes; missing certificate files are warnings for plan, errors for validate --node")
    func planRefusals() throws {
        let unknown = try viaduct("plan", "Topologies/dci-two-site.yaml", "--node", "dc9")
        #expect(unknown.status == 1 && unknown.stderr.contains("no gateway named 'dc9'"))
        // README's first plan, on a shipped example whose pki/ does not exist.
        let noFiles = try viaduct("plan", "Topologies/dci-two-site.yaml", "--node", "dc1")
        #expect(noFiles.status == 0, "\(noFiles.stderr)")
        #expect(noFiles.stderr.contains("Topologies/dci-two-site.yaml:25:18: warning: the certificate of 'dc1'"), "\(noFiles.stderr)")
        #expect(noFiles.stdout.contains("vd-dc2"))
        let json = try viaduct("plan", "Topologies/dci-two-site.yaml", "--node", "dc1", "--json")
        #expect(json.status == 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let cert = try #require(obj["certificate"] as? String)
        #expect(cert == Self.root.appendingPathComponent("Topologies/pki/dc1.pem").standardizedFileURL.path, "absolute, as docs/plan-json.md shows")
        let strict = try viaduct("validate", "Topologies/dci-two-site.yaml", "--node", "dc1")
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("Topologies/dci-two-site.yaml:25:18: error: the certificate of 'dc1'"))
    }

    @Test("usage errors (unknown options, missing arguments) exit 1, like every user error")
    func usageErrors() throws {
        for args in [["validate"], ["plan", "Topologies/dci-two-site.yaml"], ["validate", "x.yaml", "--frobnicate"], ["nosuchcommand"]] {
            let r = try viaduct(args)
            #expect(r.status == 1, "\(args) exited \(r.status)")
            #expect(r.stderr.contains("Error") || r.stderr.contains("error"), "\(args)")
        }
        #expect(try viaduct("plan", "--help").status == 0)
    }

    @Test("bench plan prints its figures")
    func benchPlan() throws {
        let r = try viaduct("bench", "plan", "--gateways", "20", "--runs", "1")
        #expect(r.status == 0)
        #expect(r.stdout.contains("mesh of 20 gateways: 190 tunnels"))
    }
}
