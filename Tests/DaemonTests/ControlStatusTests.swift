import CryptoCore
@testable import Daemon
import DataplaneContract
import Foundation
import Glibc
import IKEv2
import NetTypes
import TestSupport
import Testing
import Tools
import Topology

/// The status book (events in, `viaduct status` out), the control protocol over a real Unix
/// socket in a temporary directory (no root needed).
@Suite struct ControlStatusTests {
    static let topology = Fixture.twoGatewaysAndCloudTopology

    static func load() throws -> (Topology, [TunnelLink], NodePlan) {
        let l = TopologyLoader.load(yaml: topology, file: "lab-test.yaml")
        let t = try #require(l.topology)
        return (t, l.links, try NodePlanner.plan(t, links: l.links, node: "a", fileExists: { _ in true }).get())
    }

    static func book(_ plan: NodePlan) -> TunnelStatusBook {
        let peers = plan.tunnels.map { IKETunnelPeer(tunnel: $0, ports: .standard) }
        return TunnelStatusBook(plan: plan, peers: peers, dataplane: "test", startedAt: .seconds(100))
    }

    static func childSA(_ inbound: UInt32) -> ChildSAParameters {
        ChildSAParameters(inboundSPI: ESPSPI(inbound), outboundSPI: ESPSPI(inbound + 1), encryption: .aesGCM16(keyBits: 256), integrity: nil,
                          extendedSequenceNumbers: false, inboundEncryptionKey: SecureBytes([UInt8](repeating: 7, count: 36)),
                          outboundEncryptionKey: SecureBytes([UInt8](repeating: 8, count: 36)), inboundIntegrityKey: nil,
                          outboundIntegrityKey: nil, local: IKEEndpoint(address: [192, 0, 2, 1], port: 4500),
                          peer: IKEEndpoint(address: [198, 51, 100, 1], port: 4500), udpEncapsulation: true, lifetimeSeconds: 3600)
    }

    @Test func everyConfiguredTunnelIsListedWithWhyItIsDown() throws {
        let (_, _, plan) = try Self.load()
        let book = Self.book(plan)
        let s = book.snapshot(now: .seconds(110), daemon: IKEEndpointCounters()) { _ in nil }
        #expect(s.tunnels.map(\.peer) == plan.tunnels.map(\.peer))
        #expect(s.uptimeSeconds == 10)
        for t in s.tunnels {
            #expect(t.state != .established)
            let reason = try #require(t.reason)
            #expect(reason.contains(t.peerAddress))
        }
    }

    @Test func establishedTunnelCarriesSAsAndCountersAndFailureIsWordedWithTheNotify() throws {
        let (_, _, plan) = try Self.load()
        let book = Self.book(plan)
        let local = IKEEndpoint(address: [192, 0, 2, 1], port: 4500), remote = IKEEndpoint(address: [198, 51, 100, 1], port: 4500)
        let up = book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAEstablished(initiatorSPI: 0x1122, responderSPI: 0x3344, proposal: "aes256gcm16-prfsha384-ecp384",
                                                                  peerIdentity: "b.example", local: local, peer: remote),
                             now: .seconds(120), epochSeconds: 1_000)
        #expect(up.kind == .ikeUp && up.spis == "0000000000001122_i 0000000000003344_r" && up.at == 1_000)
        book.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(Self.childSA(0xC1A2B3C4)), now: .seconds(121), epochSeconds: 1_001)
        var k = ChildSACounters()
        k.inboundPackets = 5; k.inboundBytes = 500; k.outboundPackets = 7; k.outboundBytes = 700
        let s = book.snapshot(now: .seconds(181), daemon: IKEEndpointCounters()) { $0 == 0xC1A2B3C4 ? k : nil }
        let b = try #require(s.tunnels.first { $0.peer == "b" })
        #expect(b.state == .established && b.reason == nil)
        #expect(b.ike?.uptimeSeconds == 61 && b.ike?.udpEncapsulation == true)
        let c = try #require(b.childSAs.first)
        #expect(c.spiIn == "c1a2b3c4" && c.spiOut == "c1a2b3c5" && c.encryption == "aes256gcm16" && c.udpEncapsulation)
        #expect(c.packetsIn == 5 && c.bytesOut == 700 && c.expiresInSeconds == 3600 - 60)
        #expect(StatusText.render(s).contains("c1a2b3c4_i c1a2b3c5_o"))

        let f = IKEFailure(.authenticationFailed, "the peer's certificate is not signed by our CA", notify: 24, reportedByPeer: true)
        let ev = book.record(tunnel: TunnelID(peer: "b"), event: .ikeSAFailed(f), now: .seconds(200), epochSeconds: 1_080)
        #expect(ev.kind == .ikeFailed && ev.detail.contains("AUTHENTICATION_FAILED"))
        let after = try #require(book.snapshot(now: .seconds(230), daemon: IKEEndpointCounters()) { _ in nil }.tunnels.first { $0.peer == "b" })
        #expect(after.state == .down && after.childSAs.isEmpty && after.ike == nil)
        #expect(after.lastError?.code == "authentication-failed" && after.lastError?.secondsAgo == 30 && after.lastError?.notify == "AUTHENTICATION_FAILED")
        #expect(after.reason?.contains("not signed by our CA") == true)
    }

    @Test func statusJSONRoundTripsWithSnakeCaseKeys() throws {
        let (_, _, plan) = try Self.load()
        let book = Self.book(plan)
        book.record(tunnel: TunnelID(peer: "b"), event: .childSAReady(Self.childSA(9)), now: .seconds(101), epochSeconds: 1)
        let s = book.snapshot(now: .seconds(102), daemon: IKEEndpointCounters()) { _ in nil }
        let line = ControlMessage.encodeLine(ControlMessage.Reply(ok: true, status: s))
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasSuffix("}\n") && text.contains("\"child_sas\"") && text.contains("\"peer_address\""))
        #expect(ControlMessage.decode(ControlMessage.Reply.self, line: line.dropLast())?.status == s)
        #expect(ControlMessage.decode(ControlMessage.Request.self, line: Array("not json".utf8)) == nil)
    }

    /// A real control socket served by a real event loop is too much machinery for a unit
    /// test; the server's `handle` is driven by hand with what poll(2) would report.
    @Test func controlServerAnswersStatusStreamsEventsAndRejectsUnknownCommands() throws {
        let (_, _, plan) = try Self.load()
        let book = Self.book(plan)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vdt-ctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = ControlServer(socket: try ControlSocket(path: dir + "/a.sock")) { book.snapshot(now: $0, daemon: IKEEndpointCounters()) { _ in nil } }
        defer { server.close() }
        #expect(throws: DaemonError.self) { _ = try ControlSocket(path: dir + "/a.sock") }  // a live daemon owns it

        func pump() {
            var fds = server.pollDescriptors()
            _ = poll(&fds, nfds_t(fds.count), 100)
            server.handle(fds[...], now: .seconds(150))
        }
        let status = try ControlClient(path: dir + "/a.sock")
        let events = try ControlClient(path: dir + "/a.sock")
        pump()  // accept both
        try status.send(.init(command: "status"))
        try events.send(.init(command: "events"))
        pump(); pump()
        let reply = try #require(try status.readReply())
        #expect(reply.ok && reply.status?.tunnels.count == plan.tunnels.count && reply.status?.uptimeSeconds == 50)
        #expect(try events.readReply()?.ok == true)
        #expect(server.subscriberCount == 1)
        server.publish(book.record(tunnel: TunnelID(peer: "b"), event: .ikeSADeleted, now: .seconds(151), epochSeconds: 42))
        let e = try #require(try events.readReply()?.event)
        #expect(e.kind == .ikeDeleted && e.peer == "b" && e.at == 42)
        try status.send(.init(command: "reboot"))
        pump()
        #expect(try status.readReply()?.error?.code == "unknown-command")
        events.close()
        pump()
        #expect(server.subscriberCount == 0)
        #expect(throws: DaemonError.self) { _ = try ControlClient(path: dir + "/none.sock") }
    }

    /// A daemon that accepted the connection and never answers (stuck loop, a stopped process):
    /// `viaduct status`, `apply` and the operator commands give up with a clear error instead of
    /// hanging. Before, `readReply` blocked in read(2) for ever.
    @Test func aDaemonThatNeverAnswersIsAnErrorNotAHang() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vdt-ctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Listening, never pumped: the kernel completes the connection, nobody reads the request.
        let socket = try ControlSocket(path: dir + "/a.sock")
        defer { socket.close() }
        let client = try ControlClient(path: dir + "/a.sock")
        let error = try #require(throws: DaemonError.self) { _ = try client.exchange(.init(command: "status"), timeoutSeconds: 0.2) }
        #expect(error.message.contains("did not answer within 1 s"), "\(error.message)")
    }

    /// `run --status-group`: the status socket answers status and events, refuses every command
    /// that changes something, and is open to its group: a user who is neither root nor the
    /// daemon's reads status there, and is turned away by the control socket.
    @Test func statusSocketIsReadOnlyAndOpenToItsGroup() throws {
        let (_, _, plan) = try Self.load()
        let book = Self.book(plan)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vdt-ro-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let nogroup = try ControlSocket.groupID(named: "nogroup")
        #expect(throws: DaemonError.self) { _ = try ControlSocket.groupID(named: "no-such-group-vdt") }
        let snapshot = { (now: IKEInstant) in book.snapshot(now: now, daemon: IKEEndpointCounters()) { _ in nil } }
        let control = ControlServer(socket: try ControlSocket(path: dir + "/a.sock"), status: snapshot)
        let ro = ControlServer(socket: try ControlSocket(path: NodeControl.statusSocketPath(beside: dir + "/a.sock"), group: nogroup),
                               readOnly: true, status: snapshot) { _, _, _ in nil }
        defer { control.close(); ro.close() }
        #expect(ro.path == dir + "/a.status.sock")
        var st = stat()
        #expect(stat(ro.path, &st) == 0 && st.st_mode & 0o777 == 0o660 && st.st_gid == nogroup)
        #expect(stat(control.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        func pump(_ servers: ControlServer...) {
            for server in servers {
                var fds = server.pollDescriptors()
                _ = poll(&fds, nfds_t(fds.count), 50)
                server.handle(fds[...], now: .seconds(150))
            }
        }
        let client = try ControlClient(path: ro.path)
        pump(ro)
        for command in ["rekey-ike", "apply", "confirm", "rollback", "delete-ike"] {
            try client.send(.init(command: command, file: "/x.yaml", peer: "b"))
            pump(ro)
            #expect(try client.readReply()?.error?.code == "read-only", "\(command)")
        }
        try client.send(.init(command: "status"))
        pump(ro)
        #expect(try client.readReply()?.status?.tunnels.count == plan.tunnels.count)
        client.close()

        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            print("skipped the other-user half: needs root and setpriv")
            return
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        // nobody:nogroup asks each socket for status, from another process.
        func askAsNobody(_ path: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=65534", "--regid=\(nogroup)", "--clear-groups", "/usr/bin/python3", "-c", """
                import socket, sys
                s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
                s.sendall(b'{"command":"status"}\\n'); data = s.recv(65536)
                sys.exit(0 if b'"ok":true' in data else 1)
                """, path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for (server, allowed) in [(ro, true), (control, false)] {
            let p = try askAsNobody(server.path)
            for _ in 0..<40 where p.isRunning { pump(server); usleep(50_000) }
            p.waitUntilExit()
            #expect((p.terminationStatus == 0) == allowed, "\(server.path): status \(p.terminationStatus)")
        }
    }
}
