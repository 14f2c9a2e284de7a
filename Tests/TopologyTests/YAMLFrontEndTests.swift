import Foundation
import TestSupport
import Testing
@testable import Topology
import TopologyFiles

/// The YAML front end over Debian's libyaml: located errors, aliases, limits, bad bytes.
@Suite("YAML front end (system libyaml)")
struct YAMLFrontEndTests {
    static let header = "version: 1\npki: { ca: ca.pem }\n"

    func messages(_ yaml: String, file: String = "t.yaml") -> [String] {
        TopologyLoader.load(yaml: yaml, file: file).diagnostics.map(\.description)
    }

    @Test("syntax errors carry libyaml's 1-based line and column, problem and context")
    func locatedSyntaxErrors() {
        let d = TopologyLoader.load(yaml: "version: 1\ngateways: [a, b\ntunnels: []\n", file: "t.yaml").diagnostics
        #expect(d.count == 1)
        #expect(d.first?.code == .yamlSyntax)
        #expect(d.first?.location == SourceLocation(file: "t.yaml", line: 3, column: 8))
        #expect(d.first?.message.hasPrefix("invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2)") == true)
        // A column past multi-byte characters counts Unicode scalars, as libyaml does.
        let e = TopologyLoader.load(yaml: "description: \"é\" x\n", file: "t.yaml").diagnostics
        #expect(e.map(\.location.line) == [1])
        #expect(e.map(\.location.column) == [18])
        #expect(e.map(\.code) == [.yamlSyntax])
    }

    @Test("an alias is the anchored node: it works where a value is expected, and errors point at the anchor")
    func aliasesResolve() throws {
        let yaml = Self.header + """
        defaults:
          ike: { proposals: &p [aes256gcm16-prfsha384-ecp384] }
        gateways:
          a: &gw { address: 192.0.2.1, certificate: a.pem, key: a.key }
          b: { address: 192.0.2.2, certificate: b.pem, key: b.key }
        tunnels:
          - { between: [a, b], inside: 169.254.0.0/30, ike: { proposals: *p } }
        """
        let l = try loadValid(yaml)
        #expect(l.links.count == 1)
        #expect(l.topology?.defaults.ike.proposals == l.links.first?.settings.ike.proposals)

        // One bad anchored value used twice: one diagnostic, at the anchor's node.
        let bad = Self.header + """
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key, mtu: &m 99 }
          b: { address: 192.0.2.2, certificate: b.pem, key: b.key }
        tunnels:
          - { between: [a, b], inside: 169.254.0.0/30, mtu: *m }
          - { between: [b, a], inside: 169.254.0.4/30, mtu: *m }
        """
        let mtu = TopologyLoader.load(yaml: bad, file: "t.yaml").diagnostics.filter { $0.message.contains("mtu must be 'auto' or between") }
        #expect(mtu.map(\.location) == [SourceLocation(file: "t.yaml", line: 4, column: 65)])
    }

    @Test("undefined and self-referencing aliases are located syntax errors")
    func undefinedAlias() {
        #expect(messages("version: 1\ngateways: *nowhere\n") == ["t.yaml:2:11: error: invalid YAML: found undefined alias"])
        // An anchor names its node only once the node is complete: no cycles.
        #expect(messages("version: 1\ngateways: &g { a: *g }\n") == ["t.yaml:2:19: error: invalid YAML: found undefined alias"])
    }

    @Test("a second document is refused at its start; a single explicit document is fine")
    func multipleDocuments() throws {
        #expect(messages("version: 1\n---\nversion: 1\n") == [
            "t.yaml:2:1: error: invalid YAML: but found another document (expected a single document in the stream at line 1)",
        ])
        let one = "---\n" + meshYAML(["g1", "g2"]) + "...\n"
        _ = try loadValid(one)
    }

    @Test("a document nested past the limit is refused with a located error, not a stack overflow")
    func deepNesting() {
        let flow = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(messages("version: 1\ntunnels: " + flow + "\n") == [
            "t.yaml:2:73: error: the document nests more than 64 levels deep (counting what aliases bring in); a topology needs a handful",
        ])
        var block = "version: 1\n"
        for i in 0..<100 { block += String(repeating: " ", count: i) + "k:\n" }
        #expect(TopologyLoader.load(yaml: block, file: "t.yaml").diagnostics.map(\.code) == [.tooComplex])
        // Aliases cannot stack levels past the limit either: each anchor wraps the one before.
        var chain = "version: 1\na0: &a0 [x]\n"
        for i in 1..<200 { chain += "a\(i): &a\(i) [*a\(i - 1)]\n" }
        let d = TopologyLoader.load(yaml: chain, file: "t.yaml").diagnostics
        #expect(d.map(\.code) == [.tooComplex])
        #expect(d.first?.location.line == 65)
    }

    @Test("a billion-laughs document composes in linear time and is refused by the walk's budget")
    func aliasBomb() {
        // 10^12 leaves if expanded.
        var yaml = "version: 1\npki: { ca: ca.pem }\nl0: &l0 [b, b, b, b, b, b, b, b, b, b]\n"
        for i in 1...12 { yaml += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        guard case .success(let root?) = YAMLFrontEnd.compose(yaml), case .mapping(let pairs, _) = root else {
            Issue.record("the bomb should compose")
            return
        }
        #expect(pairs.count == 15)
        // Nothing walks into the bomb (unknown keys); aliases the schema does walk into (200 hubs of
        // 600 spokes) stop the walk at its budget.
        yaml += "gateways:\n  a: { address: 192.0.2.1, certificate: a.pem, key: a.key }\n  b: { address: 192.0.2.2, certificate: b.pem, key: b.key }\n"
        yaml += "hubs: [&t { hub: a, spokes: [" + Array(repeating: "b", count: 600).joined(separator: ", ") + "], inside-pool: 169.254.0.0/16 }]\n"
        yaml += "tunnels: [" + Array(repeating: "*t", count: 200).joined(separator: ", ") + "]\n"
        let d = TopologyLoader.load(yaml: yaml, file: "t.yaml").diagnostics
        #expect(d.map(\.code) == [.tooComplex])
    }

    @Test("invalid UTF-8 and control characters are refused at the offending character")
    func badBytes() throws {
        var bytes = Array("version: 1\nabc: d".utf8)
        bytes.insert(0xff, at: 15)
        guard case .failure(.reader(let problem, let offset, _, let at)) = YAMLFrontEnd.compose(bytes: bytes) else {
            Issue.record("invalid UTF-8 should be a reader error")
            return
        }
        #expect(problem == "invalid leading UTF-8 octet")
        #expect(offset == 15)
        #expect(at == YAMLMark(line: 2, column: 5))
        #expect(YAMLFrontEnd.mark(ofByte: 9, in: Array("a\r\nbé\u{85}c\u{2028}d".utf8)) == YAMLMark(line: 3, column: 2))
        #expect(YAMLFrontEnd.mark(ofByte: 5, in: Array("a\rb\nc".utf8)) == YAMLMark(line: 3, column: 2))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.yaml").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        #expect(TopologyLoader.load(file: path).diagnostics.map(\.description) == [
            "\(path):2:5: error: the file is not UTF-8 text: invalid leading UTF-8 octet",
        ])

        #expect(messages("version: 1\nx: a\u{0}b\n") == ["t.yaml:2:5: error: cannot read the file: control characters are not allowed"])
    }

    @Test("raw random bytes (invalid UTF-8 included) get an answer from the front end, never a crash")
    func randomRawBytes() {
        var rng = SplitMix64(seed: 0x7a11)
        let yamlish = Array("- : [ ] { } & * ! | > ' \" # \n\t\u{0}\u{85}é".utf8)
        for n in 0..<400 {
            let bytes = (0..<(n * 2)).map { _ in
                Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : yamlish[Int.random(in: 0..<yamlish.count, using: &rng)]
            }
            switch YAMLFrontEnd.compose(bytes: bytes) {
            case .success: break
            case .failure(.reader(_, let offset, _, let at)):
                #expect(offset >= 0 && offset <= bytes.count)
                #expect(at.line >= 1 && at.column >= 1)
            case .failure(.syntax(_, _, _, let at)), .failure(.duplicateKeys(_, let at)), .failure(.tooDeep(_, let at)):
                #expect(at.line >= 1 && at.column >= 1)
            case .failure(let e):
                Issue.record("unexpected \(e)")
            }
        }
    }

    @Test("scalars keep their text and style: plain yes/1/null mean what the walker makes of them")
    func scalarsAsWritten() {
        let d = messages(Self.header + """
        gateways:
          a: { address: 192.0.2.1, managed: yes, asn: "65001", description: 'null' }
        tunnels: []
        """)
        #expect(d.contains("t.yaml:4:37: error: gateway 'a'.managed must be true or false, found 'yes'"))
        #expect(!d.contains { $0.contains("asn") || $0.contains("description") })
        guard case .success(.mapping(let pairs, _)?) = YAMLFrontEnd.compose("a: 'x'\nb: |\n  y\nc: !!str 1\nd: ~\n") else {
            Issue.record("should compose")
            return
        }
        let scalars = pairs.compactMap { p -> YAMLScalar? in
            if case .scalar(let s, _) = p.value { return s }
            return nil
        }
        #expect(scalars.map(\.string) == ["x", "y\n", "1", "~"])
        #expect(scalars.map(\.style) == [.singleQuoted, .literal, .plain, .plain])
        #expect(scalars.map(\.tag) == [YAMLFrontEnd.tag.str, YAMLFrontEnd.tag.str, YAMLFrontEnd.tag.str, nil])
    }

    @Test("duplicate keys compare text and resolved tag: 'a' repeats a, '1' does not repeat 1")
    func duplicateKeys() {
        #expect(messages("version: 1\nx: { a: 1, 'a': 2 }\n") == [
            "t.yaml:2:6: error: key 'a' appears more than once in the same mapping; each key may appear once",
        ])
        guard case .success = YAMLFrontEnd.compose("{ 1: a, '1': b, yes: c, \"yes\": d }") else {
            Issue.record("1 and '1' are different keys")
            return
        }
        #expect(messages("version: 1\nx: { b: 1, a: 2, b: 3, a: 4 }\n") == [
            "t.yaml:2:12: error: key 'a', 'b' appears more than once in the same mapping; each key may appear once",
        ])
    }

    @Test("input past the size cap is refused before libyaml sees it")
    func sizeCap() {
        guard case .failure(let e) = YAMLFrontEnd.compose("a: b", maxBytes: 3) else {
            Issue.record("4 bytes past a 3-byte cap should be refused")
            return
        }
        #expect(e == .tooLarge(bytes: 4, limit: 3))
    }

    #if os(Linux)
    @Test("the YAML parser is Debian's shared libyaml, not a copy linked into the binary")
    func linksSystemLibyaml() throws {
        _ = YAMLFrontEnd.compose("a: b")
        // /proc reports a size of 0, so read to the end rather than trusting it.
        let maps = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        defer { try? maps.close() }
        let text = String(decoding: try maps.readToEnd() ?? Data(), as: UTF8.self)
        let libyaml = text.split(separator: "\n").filter { $0.contains("/libyaml-0.so.2") }
        #expect(!libyaml.isEmpty, "libyaml-0.so.2 is not mapped into the test process")
    }
    #endif
}
