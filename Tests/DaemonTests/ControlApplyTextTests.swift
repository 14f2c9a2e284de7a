@testable import Daemon
import Foundation
import Glibc
import System
import IKEv2
import Testing

/// `apply` carries the topology's text: the daemon plans what the client read, even when the
/// file is where the daemon cannot see it (systemd PrivateTmp/ProtectHome).
struct ControlApplyTextTests {
    static let unseen = "/nonexistent-vdt-\(getpid())/home/op/candidate.yaml"

    @Test func theTextIsPlannedWithoutReadingTheFile() throws {
        let text = ControlStatusTests.topology
        let plan = try ControlApplyHandler.plan(file: Self.unseen, text: text, node: "a", fileExists: { _ in true }).get()
        #expect(plan.node == "a" && plan.tunnels.map(\.peer) == ["b", "c"])
        // Relative paths start at the file's directory, as when the daemon read the file.
        #expect(plan.certificate == "/nonexistent-vdt-\(getpid())/home/op/c")
        // Without the text the daemon can only try the path, which it cannot see.
        guard case .failure(let e) = ControlApplyHandler.plan(file: Self.unseen, node: "a", fileExists: { _ in true }) else {
            Issue.record("planned a file that does not exist")
            return
        }
        #expect(e.code == "invalid-topology" && e.message.contains("no such file"))
    }

    @Test func invalidTextIsRefusedWithItsLocation() {
        guard case .failure(let e) = ControlApplyHandler.plan(file: "/etc/viaduct/t.yaml", text: "version: 1\ngateways: [\n", node: "a") else {
            Issue.record("planned an invalid topology")
            return
        }
        #expect(e.code == "invalid-topology" && e.message.hasPrefix("/etc/viaduct/t.yaml:"))
    }

    @Test func missingCredentialsSayWhereTheDaemonLooks() {
        guard case .failure(let e) = ControlApplyHandler.plan(file: Self.unseen, text: ControlStatusTests.topology, node: "a",
                                                             fileExists: { _ in false }) else {
            Issue.record("planned without credentials")
            return
        }
        #expect(e.message.contains("PrivateTmp") && e.message.contains("/etc/viaduct"))
    }

    /// A request line far over the old 4 KiB limit arrives whole on the control socket; the
    /// status socket keeps the short limit and drops such a client.
    @Test func aLongApplyLineIsReadWholeOnlyOnTheControlSocket() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        var pair2: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair2) == 0)
        defer { for fd in [fds[1], pair2[1]] { _ = Glibc.close(fd) } }
        let control = ControlConnection(FileDescriptor(taking: fds[0]), maxLine: ControlMessage.maxApplyRequestLine)
        let status = ControlConnection(FileDescriptor(taking: pair2[0]))
        let body = String(repeating: "# padding\n", count: 20_000)
        let line = ControlMessage.encodeLine(ControlMessage.Request(command: "apply", file: "/x.yaml", topology: body))
        #expect(line.count > 200_000)
        var lines: [[UInt8]] = []
        var sent = 0
        while sent < line.count {
            let n = line[sent...].withUnsafeBytes { Glibc.write(fds[1], $0.baseAddress, min($0.count, 50_000)) }
            if n > 0 { sent += n }
            guard let got = control.readLines() else { Issue.record("control connection dropped the line"); return }
            lines += got
        }
        while lines.isEmpty, let got = control.readLines() { lines += got; if got.isEmpty { break } }
        #expect(lines.count == 1)
        let request = try #require(ControlMessage.decode(ControlMessage.Request.self, line: lines[0]))
        #expect(request.topology == body)
        _ = line.withUnsafeBytes { Glibc.write(pair2[1], $0.baseAddress, 8192) }
        #expect(status.readLines() == nil, "the status socket keeps its 4 KiB limit")
    }
}
