@testable import Daemon
import Foundation
import Glibc
import Testing
import NetTypes

/// sd_notify by hand: the datagrams a notifier sends, read back from a Unix datagram socket of
/// the test's own (a path in a temporary directory, and an abstract name). The socket's name
/// is injected; the process environment is never touched.
@Suite struct SystemdNotifierTests {
    /// A bound, non-blocking SOCK_DGRAM Unix socket standing in for systemd's notify socket.
    final class Listener {
        let fd: Int32
        init(name: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var sa = sockaddr_un()
            sa.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(name.utf8)
            let abstract = name.hasPrefix("@")
            if abstract { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &sa.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
            let r = withUnsafePointer(to: sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            guard fd >= 0, r == 0 else { throw DaemonError(.system, "cannot bind test notify socket \(name)") }
        }
        deinit { _ = Glibc.close(fd) }

        /// Every datagram queued so far.
        func messages() -> [String] {
            var out: [String] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return out }
                out.append(String(decoding: buf[0..<n], as: UTF8.self))
            }
        }
    }

    static func tempDir() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vdt-op-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func readyStatusReloadAndStoppingArriveAsSeparateDatagrams() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/notify"
        let listener = try Listener(name: path)
        let n = SystemdNotifier(notifySocket: path)
        defer { n.close() }
        #expect(n.isActive && n.socketName == path)
        #expect(n.ready(status: "0 of 2 tunnels up"))
        #expect(n.status("1 of 2 tunnels up\nsecond line"))
        #expect(n.reloading(monotonicMicroseconds: 123_456_789))
        #expect(n.ready())
        #expect(n.stopping())
        #expect(listener.messages() == [
            "READY=1\nSTATUS=0 of 2 tunnels up",
            "STATUS=1 of 2 tunnels up second line",
            "RELOADING=1\nMONOTONIC_USEC=123456789",
            "READY=1",
            "STOPPING=1",
        ])
    }

    @Test func abstractSocketNameStartsWithAnAt() throws {
        let name = "@vdt-op-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try Listener(name: name)
        let n = SystemdNotifier(notifySocket: name)
        defer { n.close() }
        #expect(n.ready())
        #expect(listener.messages() == ["READY=1"])
        // A different abstract name does not reach this listener.
        let other = SystemdNotifier(notifySocket: name + "-other")
        #expect(!other.ready())
        #expect(listener.messages().isEmpty)
    }

    @Test func withoutNotifySocketNothingIsSent() {
        for value in [nil, "", "relative/path", "@"] as [String?] {
            let n = SystemdNotifier(notifySocket: value)
            #expect(!n.isActive)
            #expect(!n.ready())
        }
        #expect(SystemdNotifier.monotonicMicroseconds() > 0)
    }

    /// The daemon's STATUS line follows Child SAs coming and going, and is only sent on a change.
    @Test func nodeStatusLineCountsTunnelsWithAChildSA() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listener = try Listener(name: dir + "/notify")
        let node = NodeSystemd(notifier: SystemdNotifier(notifySocket: dir + "/notify"), tunnels: 2)
        defer { node.notifier.close() }
        node.ready()
        node.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(ControlStatusTests.childSA(0x10)))
        node.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(ControlStatusTests.childSA(0x20)))  // a rekey: still one tunnel
        node.record(tunnel: TunnelID(peer: "b"), event: .childSADeleted(inboundSPI: 0x10, outboundSPI: 0x11))
        node.record(tunnel: TunnelID(peer: "c"), event: .childSAReady(ControlStatusTests.childSA(0x30)))
        node.record(tunnel: TunnelID(peer: "b"), event: .childSADeleted(inboundSPI: 0x20, outboundSPI: 0x21))
        node.stopping()
        #expect(listener.messages() == [
            "READY=1\nSTATUS=0 of 2 tunnels up",
            "STATUS=1 of 2 tunnels up",
            "STATUS=2 of 2 tunnels up",
            "STATUS=1 of 2 tunnels up",
            "STOPPING=1\nSTATUS=stopping",
        ])
    }
}
