import Daemon
import Foundation
import Testing
import Tools

/// How `status`, `events` and the session commands find the daemon without `--socket`.
struct ControlSocketDiscoveryTests {
    @Test func theOnlyControlSocketIsFoundAndStatusSocketsAreNotCounted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-discovery-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(ControlSocketDiscovery.find(in: dir) == .none)
        for name in ["dc1.sock", "dc1.status.sock", "notes.txt"] {
            #expect(FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: nil))
        }
        #expect(ControlSocketDiscovery.find(in: dir) == .one(path: "\(dir)/dc1.sock"))
        #expect(FileManager.default.createFile(atPath: "\(dir)/dc0.sock", contents: nil))
        #expect(ControlSocketDiscovery.find(in: dir) == .several(nodes: ["dc0", "dc1"]))
        #expect(ControlSocketDiscovery.find(in: "\(dir)/missing") == .none)
    }

    @Test func aCommandThatWritesKeepsTheControlSocket() {
        #expect(ControlSocketDiscovery.usable("/nonexistent/dc1.sock", readOnly: false) == "/nonexistent/dc1.sock")
        // Neither socket is open to anyone: the control socket, so the error names it.
        #expect(ControlSocketDiscovery.usable("/nonexistent/dc1.sock", readOnly: true) == "/nonexistent/dc1.sock")
    }
}
