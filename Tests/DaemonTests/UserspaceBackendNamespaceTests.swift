import CryptoCore
@testable import Daemon
import DataplaneContract
import Foundation
import Glibc
import IKEv2
import NetTypes
import TestSupport
import Testing
import Topology

/// Records what the backend asks of the kernel instead of doing it.
final class RecordingKernelSync: KernelStateSync {
    var calls: [Set<String>] = []
    func sync(down: Set<String>) throws(DaemonError) -> [String] {
        calls.append(down)
        return []
    }
    var plans: [NodePlan] = []
    func update(plan: NodePlan) { plans.append(plan) }
}

/// `UserspaceDataplaneBackend` against the real kernel (TUN, a dup of the daemon's 4500
/// socket), in a namespace of its own; the kernel sync is a recorder (the netlink executor has
/// its own tests). Root only.
@Suite(.serialized)
struct UserspaceBackendNamespaceTests {
    static let topology = """
        version: 1
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: c, key: k, networks: [198.18.1.0/24] }
          b: { address: 192.0.2.2, certificate: c, key: k, networks: [198.18.2.0/24] }
        tunnels:
          - between: [a, b]
            inside: 169.254.30.0/30
        """

    static func plan() throws -> NodePlan {
        let l = TopologyLoader.load(yaml: topology, file: "t.yaml")
        let t = try #require(l.topology)
        return try NodePlanner.plan(t, links: l.links, node: "a", fileExists: { _ in true }).get()
    }

    @Test func attachCreatesTheTunnelInterfaceAndFollowsChildSAs() throws {
        guard TestNamespace.isRoot else {
            print("skipped UserspaceBackendNamespaceTests: needs root (network namespaces, TUN)")
            return
        }
        let ns = try TestNamespace()
        defer { ns.remove() }
        let plan = try Self.plan()
        let interface = try #require(plan.tunnels.first?.interface.name)
        let kernel = RecordingKernelSync()
        let backend = UserspaceDataplaneBackend(plan: plan, kernel: kernel, logger: LogCapture().logger())
        let (sockets, shared) = try ns.inside { () throws -> (IKESocketSet, SharedSockets) in
            let s = try IKESocketSet(addresses: [gwA], bypassPolicies: false)
            return (s, try backend.attach(sockets: s))
        }
        defer { sockets.close() }
        #expect(try ns.inside { if_nametoindex(interface) } != 0)
        #expect(kernel.calls == [[interface]])
        let natT = try #require(sockets.socket(for: IKEEndpoint(address: gwA, port: 4500)))
        #expect(shared.readByDataplane == [natT.descriptor])

        // IKE on 4500 (non-ESP marker) read by the data plane comes back through the inbox.
        let inbox = try #require(shared.inbox)
        let sender = try ns.inside { try UDPSocket(binding: IKEEndpoint(address: gwB, port: 4500)) }
        defer { sender.close() }
        let ike = ikeMessage(spiI: 0x1234, spiR: 0, initiator: true, response: false)
        try sender.send(NonESPMarker.bytes + ike, to: IKEEndpoint(address: gwA, port: 4500))
        var got: [IKEDatagram] = []
        for _ in 0..<200 where got.isEmpty {
            if DataplaneWiringTests.readable(inbox.descriptor, waitMilliseconds: 10) { got += inbox.take() }
        }
        #expect(got.map(\.bytes) == [ike])
        #expect(got.first?.source == IKEEndpoint(address: gwB, port: 4500))

        // The first Child SA brings the tunnel up, deleting it takes it down again.
        try backend.install(DataplaneWiringTests.childSA(inbound: 0xC000_00C1, outbound: 0xC000_00D1), tunnel: TunnelID(peer: "b"))
        #expect(kernel.calls.last == [])
        #expect(backend.counters(inboundSPI: 0xC000_00C1) != nil)
        try backend.delete(inboundSPI: 0xC000_00C1, outboundSPI: 0xC000_00D1, tunnel: TunnelID(peer: "b"))
        #expect(kernel.calls.last == [interface])
        #expect(kernel.calls.count == 3)

        // SAs the userspace data plane cannot carry are refused with its reason.
        var cbc = DataplaneWiringTests.childSA(inbound: 0xC000_00C2, outbound: 0xC000_00D2)
        cbc.encryption = .tripleDES
        cbc.integrity = .hmacSHA256_128
        #expect {
            try backend.install(cbc, tunnel: TunnelID(peer: "b"))
        } throws: { e in
            (e as? DataplaneError)?.code == .unsupportedSA
        }
        var plain = DataplaneWiringTests.childSA(inbound: 0xC000_00C3, outbound: 0xC000_00D3)
        plain.udpEncapsulation = false
        #expect(throws: DataplaneError.self) { try backend.install(plain, tunnel: TunnelID(peer: "b")) }
        #expect(kernel.calls.count == 3)

        // Detaching closes the TUN device: the interface is gone.
        backend.detach()
        #expect(try ns.inside { if_nametoindex(interface) } == 0)
    }
}
