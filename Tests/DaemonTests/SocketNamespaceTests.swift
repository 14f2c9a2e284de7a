@testable import Daemon
import Foundation
import Glibc
import IKEv2
import System
import Testing
import TestSupport

/// A network namespace of our own with 192.0.2.1 and 192.0.2.2 on its loopback. Sockets are
/// created while the calling thread is inside it (setns), then the thread goes back; the
/// sockets stay in the namespace. Synchronous on purpose: no suspension point while inside.
struct TestNamespace {
    let name: String

    static var isRoot: Bool { geteuid() == 0 }

    init(prefix: String = "vdt-dtest") throws {
        name = "\(TestNamespaceName.make(prefix))-\(UInt32.random(in: 0...UInt32.max))"
        try Self.ip(["netns", "add", name])
        try Self.ip(["-n", name, "link", "set", "lo", "up"])
        try Self.ip(["-n", name, "addr", "add", "192.0.2.1/32", "dev", "lo"])
        try Self.ip(["-n", name, "addr", "add", "192.0.2.2/32", "dev", "lo"])
    }

    func remove() { try? Self.ip(["netns", "del", name]) }

    static func ip(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/sbin/ip")
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DaemonError(.system, "ip \(args.joined(separator: " ")) failed") }
    }

    /// Runs `body` with this thread in the namespace.
    func inside<T>(_ body: () throws -> T) throws -> T {
        try NetNamespace.inside(named: name, body)
    }
}

@Suite(.serialized)
struct SocketNamespaceTests {
    let ports = IKEPorts.standard

    @Test func bypassPoliciesInstallAndIKERoundTripsWithMarker() throws {
        guard TestNamespace.isRoot else {
            print("SKIP bypassPoliciesInstallAndIKERoundTripsWithMarker: needs root for network namespaces")
            return
        }
        let ns = try TestNamespace()
        defer { ns.remove() }
        var outcomes: [XfrmBypassPolicy.Outcome] = []
        let (a, b) = try ns.inside {
            (try IKESocketSet(addresses: [gwA], ports: ports) { _, o in outcomes.append(o) },
             try IKESocketSet(addresses: [gwB], ports: ports) { _, o in outcomes.append(o) })
        }
        defer { a.close(); b.close() }
        // Four sockets, each with its in+out ALLOW policy: this kernel has XFRM, so "installed".
        #expect(outcomes == [.installed, .installed, .installed, .installed])

        let ike = ikeMessage(spiI: 0x1234, spiR: 0, initiator: true, response: false)
        // Port 500: bytes unchanged, destination from IP_PKTINFO.
        try a.send(IKEDatagram(bytes: ike, source: IKEEndpoint(address: gwA, port: 500), destination: IKEEndpoint(address: gwB, port: 500)))
        let r500 = try #require(try waitReceive(b.socket(for: IKEEndpoint(address: gwB, port: 500))))
        #expect(r500.bytes == ike)
        #expect(r500.source == IKEEndpoint(address: gwA, port: 500))
        #expect(r500.destination == IKEEndpoint(address: gwB, port: 500))

        // Port 4500: the marker is on the wire and stripped by classification.
        try a.send(IKEDatagram(bytes: ike, source: IKEEndpoint(address: gwA, port: 4500), destination: IKEEndpoint(address: gwB, port: 4500)))
        let r4500 = try #require(try waitReceive(b.socket(for: IKEEndpoint(address: gwB, port: 4500))))
        #expect(Array(r4500.bytes.prefix(4)) == [0, 0, 0, 0])
        #expect(IKESocketSet.classify(r4500, ports: ports)
                == .ike(IKEDatagram(bytes: ike, source: IKEEndpoint(address: gwA, port: 4500), destination: IKEEndpoint(address: gwB, port: 4500))))

        // ESP-looking datagram on 4500 (non-zero SPI): classified for the data plane.
        try a.socket(for: IKEEndpoint(address: gwA, port: 4500))?.send([0xC1, 0x23, 0x45, 0x67, 0, 0, 0, 1], to: IKEEndpoint(address: gwB, port: 4500))
        let esp = try #require(try waitReceive(b.socket(for: IKEEndpoint(address: gwB, port: 4500))))
        #expect(IKESocketSet.classify(esp, ports: ports) == .esp)
    }

    @Test func bindingAnAddressNotOnTheHostSaysWhich() throws {
        guard TestNamespace.isRoot else {
            print("SKIP bindingAnAddressNotOnTheHostSaysWhich: needs root for network namespaces")
            return
        }
        let ns = try TestNamespace()
        defer { ns.remove() }
        let error = try ns.inside { () -> DaemonError? in
            do throws(DaemonError) {
                _ = try IKESocketSet(addresses: [[198, 51, 100, 7]], ports: ports)
                return nil
            } catch { return error }
        }
        #expect(error?.code == .addressNotConfigured)
        #expect(error?.message.contains("198.51.100.7") == true)
        // A second daemon on the same address: port in use.
        let inUse = try ns.inside { () -> DaemonError? in
            let first = try IKESocketSet(addresses: [gwA], ports: ports, bypassPolicies: false)
            defer { first.close() }
            do throws(DaemonError) {
                _ = try IKESocketSet(addresses: [gwA], ports: ports, bypassPolicies: false)
                return nil
            } catch { return error }
        }
        #expect(inUse?.code == .portInUse)
    }

    /// Non-blocking sockets: poll briefly for the datagram (loopback delivery is immediate).
    func waitReceive(_ socket: UDPSocket?) throws -> UDPSocket.Received? {
        guard let socket else { return nil }
        var fd = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&fd, 1, 2000)
        return try socket.receive()
    }
}
