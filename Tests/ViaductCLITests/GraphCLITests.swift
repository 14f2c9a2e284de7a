import Foundation
import Testing

/// `viaduct graph`: the real binary, a topology, and daemons that answer or do not.
@Suite("viaduct graph")
struct GraphCLITests {
    let cli = CLITests()

    @Test("graph FILE: exit 0, a DOT graph with every gateway and tunnel")
    func plain() throws {
        let r = try cli.viaduct("graph", "Topologies/mesh-three-dc.yaml")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(r.stdout.contains("graph \"viaduct\" {") && r.stdout.hasSuffix("}\n"))
        for gw in ["dc1", "dc2", "dc3"] { #expect(r.stdout.contains("\"gw:\(gw)\" [label=\"\(gw)\\n")) }
        #expect(r.stdout.components(separatedBy: "\" -- \"gw:").count - 1 == 3, "three tunnels")
        #expect(try cli.viaduct("graph", "Topologies/mesh-three-dc.yaml").stdout == r.stdout, "deterministic")
    }

    @Test("a bad file: exit 1, FILE:LINE:COLUMN: error:, nothing on stdout")
    func badFile() throws {
        let r = try cli.viaduct("graph", "Topologies/invalid/unknown-keys.yaml")
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(#/unknown-keys\.yaml:\d+:\d+: error: /#), "\(r.stderr)")
        let missing = try cli.viaduct("graph", "no/such/file.yaml")
        #expect(missing.status == 1 && missing.stderr.contains("no/such/file.yaml: error: no such file"))
    }

    @Test("--status that cannot be reached: a warning, the graph with unknown tunnels, exit 0")
    func unreachableStatus() throws {
        let socket = "/tmp/viaduct-graph-\(UUID().uuidString.prefix(8)).sock"
        let r = try cli.viaduct("graph", "Topologies/mesh-three-dc.yaml", "--status", socket)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr == "viaduct: warning: no status from \(socket): no viaduct daemon is listening there; its gateway's tunnels are drawn as unknown unless their other end reports\n", "\(r.stderr)")
        #expect(r.stdout.contains("graph \"viaduct\" {"))
        let edges = r.stdout.split(separator: "\n").filter { $0.contains("\" -- \"gw:") }
        #expect(edges.count == 3 && edges.allSatisfy { $0.contains("unknown (no status)") && $0.contains("style=dotted") }, "\(r.stdout)")
    }

    @Test("--status from a daemon: its tunnels drawn in their state, the others unknown")
    func liveStatus() throws {
        let dir = "/tmp/viaduct-graph-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/dc1.sock"
        // A stand-in daemon: answers one `status` request the way `viaduct run` does.
        let reply = #"""
            {"ok":true,"status":{"format_version":1,"node":"dc1","dataplane":"userspace","uptime_seconds":5,"datagrams_received":0,"datagrams_sent":0,"datagrams_dropped":0,"tunnels":[
            {"peer":"dc2","interface":"vd-dc2","role":"initiator","local_address":"192.0.2.1","peer_address":"192.0.2.2","state":"established","child_sas":[{"spi_in":"c1","spi_out":"c2","encryption":"AES_GCM_16-256","udp_encapsulation":false,"uptime_seconds":1,"rekey_in_seconds":9,"expires_in_seconds":10,"packets_in":0,"bytes_in":0,"packets_out":0,"bytes_out":0}]},
            {"peer":"dc3","interface":"vd-dc3","role":"initiator","local_address":"192.0.2.1","peer_address":"192.0.2.3","state":"down","reason":"the peer refused: AUTHENTICATION_FAILED","child_sas":[]}]}}
            """#.replacingOccurrences(of: "\n", with: "")
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        daemon.arguments = ["-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
            print("ready", flush=True)
            c, _ = s.accept(); c.settimeout(10)
            data = b""
            while not data.endswith(b"\\n"): data += c.recv(4096)
            c.sendall(sys.argv[2].encode() + b"\\n"); c.close()
            """, socket, reply]
        let ready = Pipe()
        daemon.standardOutput = ready
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }
        #expect(String(decoding: ready.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("ready"))

        let r = try cli.viaduct("graph", "Topologies/mesh-three-dc.yaml", "--status", socket)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let edges = r.stdout.split(separator: "\n").filter { $0.contains("\" -- \"gw:") }
        func edge(_ a: String, _ b: String) -> String {
            edges.first { $0.contains("\"gw:\(a)\" -- \"gw:\(b)\"") || $0.contains("\"gw:\(b)\" -- \"gw:\(a)\"") }.map(String.init) ?? ""
        }
        #expect(edge("dc1", "dc2").contains(#"color="green4""#), "\(r.stdout)")
        #expect(edge("dc1", "dc3").contains(#"color="red""#) && edge("dc1", "dc3").contains("down (dc1): the peer refused: AUTHENTICATION_FAILED"))
        #expect(edge("dc2", "dc3").contains("unknown (no status)"))
    }
}
