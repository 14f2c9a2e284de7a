import Foundation
import Testing
@testable import Topology

@Suite("Topologies/ examples and Topologies/invalid/ diagnostics")
struct TopologyFileTests {
    @Test("every example validates and every managed gateway in it plans", arguments: topologyFiles("Topologies"))
    func exampleIsValid(file: String) throws {
        let l = TopologyLoader.load(yaml: readRepoFile(file), file: file)
        #expect(l.diagnostics.isEmpty, "\(l.diagnostics)")
        let t = try #require(l.topology)
        #expect(!l.links.isEmpty)
        for g in t.gateways where g.managed {
            let p = try plan(l, g.name)
            #expect(p.tunnels.count == l.links.filter { $0.a == g.name || $0.b == g.name }.count)
        }
    }

    @Test("there are at least five examples, covering every shape")
    func examplesCoverShapes() {
        let files = topologyFiles("Topologies")
        #expect(files.count >= 5)
        let text = files.map(readRepoFile).joined()
        for needle in ["between:", "mesh:", "hub:", "managed: false", "2001:db8:", "routing: bgp"] {
            #expect(text.contains(needle), "no example uses \(needle)")
        }
    }

    @Test("each invalid file yields exactly its documented diagnostics", arguments: topologyFiles("Topologies/invalid"))
    func invalidFileDiagnostics(file: String) throws {
        let expectedFile = String(file.dropLast(".yaml".count)) + ".expected"
        let expected = readRepoFile(expectedFile).split(separator: "\n").map(String.init)
        #expect(!expected.isEmpty, "\(expectedFile) is missing or empty")
        let l = TopologyLoader.load(yaml: readRepoFile(file), file: file)
        #expect(!l.isValid)
        #expect(l.diagnostics.map(\.description) == expected)
        for d in l.diagnostics {
            #expect(d.location.file == file)
        }
    }
}
