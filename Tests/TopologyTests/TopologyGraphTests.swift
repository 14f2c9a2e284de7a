import Foundation
import TestSupport
import Testing
@testable import Topology
import TopologyFiles

/// `viaduct graph`'s picture: exact DOT, escaping, live state, and Graphviz accepting it.
@Suite("topology graph (DOT)")
struct TopologyGraphTests {
    /// Two managed gateways and a cloud VPN endpoint: a bgp tunnel, a static one with an
    /// explicit interface name, an unmanaged end without an interface.
    static let small = """
        version: 1
        pki: { ca: ca.pem }
        gateways:
          dc1: { address: 192.0.2.1, certificate: dc1.pem, key: dc1.key, asn: 65001, networks: [198.18.1.0/24, 2001:db8:1::/48] }
          dc2: { address: 198.51.100.1, certificate: dc2.pem, key: dc2.key, asn: 65002, networks: [198.18.2.0/24] }
          cloud: { address: 203.0.113.9, identity: 203.0.113.9, managed: false, asn: 64512 }
        tunnels:
          - between: [dc1, dc2]
            inside: 169.254.10.0/30
            routing: bgp
          - between: [dc2, cloud]
            inside: 169.254.21.0/31
            interface: { dc2: aws0 }
        """

    static let smallDOT = #"""
        // small.yaml: gateways, their sites, the tunnels. Render: dot -Tsvg
        graph "viaduct" {
          graph [label="small.yaml", labelloc=t, fontname="Helvetica", fontsize=12];
          node [fontname="Helvetica", fontsize=10];
          edge [fontname="Helvetica", fontsize=9];
          "gw:cloud" [label="cloud\n203.0.113.9\nAS 64512\n(not run by viaduct)", shape=box, style="dashed"];
          "gw:dc1" [label="dc1\n192.0.2.1\nAS 65001", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
          "site:dc1" [label="198.18.1.0/24\n2001:db8:1::/48", shape=note, style=filled, fillcolor="#f3f3f3", tooltip="networks of dc1"];
          "gw:dc1" -- "site:dc1" [color="#bbbbbb", penwidth=3];
          "gw:dc2" [label="dc2\n198.51.100.1\nAS 65002", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
          "site:dc2" [label="198.18.2.0/24", shape=note, style=filled, fillcolor="#f3f3f3", tooltip="networks of dc2"];
          "gw:dc2" -- "site:dc2" [color="#bbbbbb", penwidth=3];
          "gw:dc2" -- "gw:cloud" [label="dc2: aws0 169.254.21.0\ncloud: 169.254.21.1\nstatic, inside 169.254.21.0/31", tooltip="dc2: aws0 169.254.21.0\ncloud: 169.254.21.1\nstatic, inside 169.254.21.0/31"];
          "gw:dc1" -- "gw:dc2" [label="dc1: vd-dc2 169.254.10.1\ndc2: vd-dc1 169.254.10.2\nbgp, inside 169.254.10.0/30", tooltip="dc1: vd-dc2 169.254.10.1\ndc2: vd-dc1 169.254.10.2\nbgp, inside 169.254.10.0/30"];
        }

        """#

    @Test("a small topology: exact DOT")
    func golden() throws {
        let l = try loadValid(Self.small, file: "/etc/viaduct/small.yaml")
        let dot = TopologyGraph.dot(topology: try #require(l.topology), links: l.links)
        #expect(dot == Self.smallDOT, "\(dot)")
    }

    @Test("the same topology gives the same text, whatever the declaration order")
    func deterministic() throws {
        let l = try loadValid(Self.small)
        var t = try #require(l.topology)
        let first = TopologyGraph.dot(topology: t, links: l.links)
        t.gateways.reverse()
        #expect(TopologyGraph.dot(topology: t, links: l.links.reversed()) == first)
    }

    @Test("names with '-', '.', quotes and backslashes are quoted and escaped")
    func escaping() throws {
        let l = try loadValid(Self.small)
        var t = try #require(l.topology)
        var links = l.links
        // The parser allows [a-z0-9-] in gateway names; the renderer must not depend on it.
        for i in t.gateways.indices where t.gateways[i].name == "dc1" { t.gateways[i].name = "dc-1.fra" }
        for i in links.indices {
            if links[i].a == "dc1" { links[i].a = "dc-1.fra" }
            if links[i].b == "dc1" { links[i].b = "dc-1.fra" }
            if links[i].interfaceNames["dc2"] == "aws0" { links[i].interfaceNames["dc2"] = #"a"w\s"# }
        }
        let dot = TopologyGraph.dot(topology: t, links: links, status: .init(reports: [
            .init(node: "dc2", peer: "cloud", state: .down, reason: "peer said \"no\"\nthen C:\\ went away"),
        ]))
        #expect(dot.contains(#""gw:dc-1.fra" [label="dc-1.fra\n192.0.2.1\nAS 65001""#), "\(dot)")
        #expect(dot.contains(#""gw:dc-1.fra" -- "site:dc-1.fra""#))
        #expect(dot.contains(#"dc2: a\"w\\s 169.254.21.0"#), "\(dot)")
        #expect(dot.contains(#"down (dc2): peer said \"no\" then C:\\ went away"#), "\(dot)")
        // Every quote in the text is either a delimiter or escaped: each line has an even number
        // of unescaped quotes.
        for line in dot.split(separator: "\n") where !line.hasPrefix("//") {
            var unescaped = 0, backslashes = 0
            for c in line {
                if c == "\"" && backslashes % 2 == 0 { unescaped += 1 }
                backslashes = c == "\\" ? backslashes + 1 : 0
            }
            #expect(unescaped % 2 == 0, "\(line)")
        }
    }

    @Test("live state: green, orange dashed, red dashed with the reason, grey dotted when unknown")
    func stateColors() throws {
        let l = try loadValid(meshYAML(["g1", "g2", "g3", "g4"]))
        let t = try #require(l.topology)
        let long = String(repeating: "the peer's certificate is not valid yet ", count: 3)
        let dot = TopologyGraph.dot(topology: t, links: l.links, status: .init(reports: [
            .init(node: "g1", peer: "g2", state: .established),
            .init(node: "g2", peer: "g1", state: .established),
            .init(node: "g1", peer: "g3", state: .connecting, reason: "waiting for IKE_SA_INIT response"),
            .init(node: "g1", peer: "g4", state: .established),
            .init(node: "g4", peer: "g1", state: .down, reason: long),
            .init(node: "g2", peer: "g3", state: .down, reason: "AUTHENTICATION_FAILED from the peer"),
        ]))
        func edge(_ a: String, _ b: String) throws -> String {
            let line = dot.split(separator: "\n").first { $0.hasPrefix("  \"gw:\(a)\" -- \"gw:\(b)\"") }
            return String(try #require(line, "no edge \(a) -- \(b) in\n\(dot)"))
        }
        let up = try edge("g1", "g2")
        #expect(up.contains(#"color="green4""#) && up.contains("style=solid") && up.contains(#"\nestablished""#))
        let connecting = try edge("g1", "g3")
        #expect(connecting.contains(#"color="orange""#) && connecting.contains("style=dashed"))
        #expect(connecting.contains("connecting (g1): waiting for IKE_SA_INIT response"))
        // One end down is down, whatever the other says; the label is short, the tooltip whole.
        let down = try edge("g1", "g4")
        #expect(down.contains(#"color="red""#) && down.contains("style=dashed"))
        #expect(down.contains("down (g4): " + long.prefix(TopologyGraph.shortReason - 1) + "…"), "\(down)")
        #expect(down.contains("down (g4): " + long.trimmingCharacters(in: .whitespaces) + "\""), "\(down)")
        #expect(try edge("g2", "g3").contains("down (g2): AUTHENTICATION_FAILED from the peer"))
        for (a, b) in [("g2", "g4"), ("g3", "g4")] {
            let unknown = try edge(a, b)
            #expect(unknown.contains(#"color="gray50""#) && unknown.contains("style=dotted") && unknown.contains("unknown"), "\(unknown)")
        }
        // Without status, no state at all.
        let plain = TopologyGraph.dot(topology: t, links: l.links)
        for word in ["green4", "orange", "red", "gray50", "unknown", "established"] { #expect(!plain.contains(word)) }
    }

    /// The path of Graphviz's `dot`, if installed.
    static let dotPath: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"]
        return dirs.map { "\($0)/dot" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test("dot -Tsvg renders every example in Topologies/, plain and with status")
    func graphvizAcceptsExamples() throws {
        guard let dotPath = Self.dotPath else {
            print("skipped: Graphviz's dot is not installed (apt-get install graphviz; Scripts/deps installs it)")
            return
        }
        let files = topologyFiles("Topologies")
        #expect(files.count >= 5)
        for file in files {
            let l = TopologyLoader.load(file: repositoryRoot.appendingPathComponent(file).path)
            let t = try #require(l.topology, "\(file): \(l.diagnostics)")
            let reports = l.links.enumerated().map { i, link in
                TopologyGraph.TunnelReport(node: link.a, peer: link.b, state: TopologyGraph.TunnelReport.State.allCases[i % 3],
                                           reason: i % 3 == 2 ? nil : "reason with \"quotes\" and <xml> & \\ chars")
            }
            for status in [nil, TopologyGraph.Status(reports: reports)] {
                let text = TopologyGraph.dot(topology: t, links: l.links, status: status)
                let (code, svg, errors) = try Self.run(dotPath, ["-Tsvg"], input: text)
                #expect(code == 0 && errors.isEmpty, "\(file): dot said \(errors)")
                #expect(svg.contains("<svg") && svg.contains("gw:"), "\(file)")
            }
        }
    }

    /// Runs `dot` on a file (no pipe to feed while reading its output).
    static func run(_ path: String, _ args: [String], input: String) throws -> (Int32, String, String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-graph-\(UUID().uuidString).dot")
        try input.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try TestProcess.runSeparating(URL(fileURLWithPath: path), args + [file.path])
        return (r.status, r.stdout, r.stderr)
    }
}
