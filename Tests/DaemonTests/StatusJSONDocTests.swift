@testable import Daemon
import Foundation
import Testing

/// docs/status-json.md is what the daemon sends: its examples decode into the daemon's own
/// types, and what the daemon encodes carries the documented keys.
struct StatusJSONDocTests {
    static let doc: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return (try? String(contentsOf: url.appendingPathComponent("docs/status-json.md"), encoding: .utf8)) ?? ""
    }()

    static var jsonBlocks: [String] {
        doc.components(separatedBy: "```json\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
    }

    @Test func theStatusExampleDecodes() throws {
        let blocks = Self.jsonBlocks
        try #require(blocks.count == 2)
        let status = try #require(ControlMessage.decode(NodeStatus.self, line: Array(blocks[0].utf8)))
        #expect(status.formatVersion == 1)
        #expect(status.version == "1.0.0-12-g1a2b3c4")
        #expect(status.tunnels.map(\.state) == [.established, .down])
        #expect(status.tunnels[0].childSAs.first?.bytesIn == 81234)
        #expect(status.tunnels[1].lastError?.notify == "AUTHENTICATION_FAILED")
        // Every key the daemon would send for this value is in the example (nothing undocumented).
        let encoded = String(decoding: ControlMessage.encodeLine(status), as: UTF8.self)
        for key in try Self.keys(encoded) { #expect(blocks[0].contains("\"\(key)\""), "\(key) is not documented") }
    }

    @Test func theEventExampleDecodes() throws {
        let blocks = Self.jsonBlocks
        try #require(blocks.count == 2)
        let event = try #require(ControlMessage.decode(TunnelEvent.self, line: Array(blocks[1].utf8)))
        #expect(event.formatVersion == 1 && event.kind == .ikeUp && event.peer == "dc2")
        let sent = TunnelEvent(at: 1, peer: "dc2", kind: .childUp, spis: nil, detail: "x")
        #expect(String(decoding: ControlMessage.encodeLine(sent), as: UTF8.self).contains("\"format_version\":1"))
        for kind in TunnelEvent.Kind.allCases { #expect(Self.doc.contains("`\(kind.rawValue)`"), "\(kind.rawValue)") }
    }

    /// Every object key in a JSON text, at any depth.
    static func keys(_ json: String) throws -> Set<String> {
        func walk(_ v: Any) -> Set<String> {
            if let d = v as? [String: Any] { return Set(d.keys).union(d.values.flatMap(walk)) }
            if let a = v as? [Any] { return Set(a.flatMap(walk)) }
            return []
        }
        return walk(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }
}
