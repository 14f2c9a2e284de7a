import CryptoCore
@testable import Daemon
import IKEv2
import Logging
import NetTypes
import Testing
import Topology

/// `mtu: auto`: the interface MTU follows the path MTU and the transform of each installed Child
/// SA and each move of the peer; a fixed MTU is left alone; an IPv6-carrying tunnel is never
/// given less than 1280; the MSS clamp follows the MTU.
@Suite struct TunnelPathSizingTests {
    static func plan(_ extra: String = "", inside: String = "169.254.10.0/30") throws -> NodePlan {
        let yaml = """
        version: 1
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key }
          b: { address: 192.0.2.2, identity: 192.0.2.2, managed: false }
        tunnels:
          - between: [a, b]
            inside: \(inside)
        \(extra)
        """
        let l = TopologyLoader.load(yaml: yaml, file: "t.yaml")
        let t = try #require(l.topology, "\(l.diagnostics)")
        return try NodePlanner.plan(t, links: l.links, node: "a", fileExists: { _ in true }).get()
    }

    static func sa(_ encryption: EncryptionAlgorithm = .aesGCM16(keyBits: 256), integrity: IntegrityAlgorithm? = nil,
                   peer: IPAddress = IPAddress.v4(0xC000_0202), udp: Bool = false) -> ChildSAParameters {
        let key = SecureBytes([UInt8](repeating: 7, count: encryption.keyMaterialLength))
        return ChildSAParameters(inboundSPI: ESPSPI(1), outboundSPI: ESPSPI(2), encryption: encryption, integrity: integrity,
                                 extendedSequenceNumbers: false, inboundEncryptionKey: key, outboundEncryptionKey: key,
                                 inboundIntegrityKey: nil, outboundIntegrityKey: nil,
                                 local: IKEEndpoint(address: IPAddress.v4(0xC000_0201).bytes, port: 4500),
                                 peer: IKEEndpoint(address: peer.bytes, port: 4500), udpEncapsulation: udp, lifetimeSeconds: 3600)
    }

    /// A kernel with a path MTU per destination that records the MTUs it is given.
    final class FakeKernel: KernelStateSync {
        var paths: [IPAddress: Int] = [:]
        var mtus: [String: Int] = [:]
        func sync(down: Set<String>) throws(DaemonError) -> [String] { [] }
        func update(plan: NodePlan) {}
        func update(mtus: [String: Int]) { self.mtus = mtus }
        func pathMTU(to address: IPAddress) -> Int? { paths[address] }
    }

    @Test func kernelPlaneWithoutNATUsesNoUDPHeader() throws {
        let t = try Self.plan().tunnels[0]
        // 1400 − 20 − 8 − 8 − 16 = 1348, 4-aligned, − 2.
        #expect(TunnelPathSizing.decide(tunnel: t, sa: Self.sa(), pathMTU: 1400, udpAlways: false) == .computed(mtu: 1346, pathMTU: 1400))
        #expect(TunnelPathSizing.decide(tunnel: t, sa: Self.sa(udp: true), pathMTU: 1400, udpAlways: false) == .computed(mtu: 1338, pathMTU: 1400))
        // The userspace plane always sends UDP 4500.
        #expect(TunnelPathSizing.decide(tunnel: t, sa: Self.sa(), pathMTU: 1400, udpAlways: true) == .computed(mtu: 1338, pathMTU: 1400))
    }

    @Test func fixedUnknownAndTooSmall() throws {
        let fixed = try Self.plan("    mtu: 1380").tunnels[0]
        #expect(TunnelPathSizing.decide(tunnel: fixed, sa: Self.sa(), pathMTU: 1400, udpAlways: false) == .fixed(1380))
        let auto = try Self.plan().tunnels[0]
        #expect(TunnelPathSizing.decide(tunnel: auto, sa: Self.sa(), pathMTU: nil, udpAlways: false) == .pathUnknown)
        #expect(TunnelPathSizing.decide(tunnel: auto, sa: Self.sa(), pathMTU: 90, udpAlways: false) == .pathTooSmall(pathMTU: 90))
    }

    @Test func ipv6InsideBelow1280IsNotConfigured() throws {
        let t = try Self.plan(inside: "2001:db8:10::/126").tunnels[0]
        let d = TunnelPathSizing.decide(tunnel: t, sa: Self.sa(), pathMTU: 1300, udpAlways: true)
        #expect(d == .belowIPv6Minimum(mtu: 1238, pathMTU: 1300))
        var sizing = TunnelPathSizing()
        let changed = sizing.record(d, interface: t.interface.name)
        #expect(!changed)
        #expect(sizing.mtus.isEmpty)
    }

    @Test func theSizerFollowsRekeysAndMoves() throws {
        let plan = try Self.plan()
        let t = plan.tunnels[0]
        let kernel = FakeKernel()
        let peer = IPAddress.v4(0xC000_0202), moved = IPAddress.v4(0xCB00_7109)
        kernel.paths = [peer: 1500, moved: 1400]
        let sizer = TunnelPathSizer(udpAlways: false)
        let logger = Logger(label: "test")
        #expect(sizer.childSAInstalled(Self.sa(), tunnel: t, kernel: kernel, logger: logger))
        #expect(kernel.mtus == [t.interface.name: 1446])
        // The same transform again (a rekey): nothing changes, no sync.
        #expect(!sizer.childSAInstalled(Self.sa(), tunnel: t, kernel: kernel, logger: logger))
        // A rekey onto CBC + SHA-256: 1500 − 20 − 8 − 16 − 16 = 1440, 16-aligned, − 2.
        #expect(sizer.childSAInstalled(Self.sa(.aesCBC(keyBits: 256), integrity: .hmacSHA256_128), tunnel: t, kernel: kernel, logger: logger))
        #expect(kernel.mtus == [t.interface.name: 1438])
        // The peer moves onto a 1400 path, same CBC transform: 1400 − 20 − 8 − 16 − 16 = 1340,
        // down to 16 octets 1328, − 2.
        #expect(sizer.peerMoved(t, to: IKEEndpoint(address: moved.bytes, port: 4500), kernel: kernel, logger: logger))
        #expect(kernel.mtus == [t.interface.name: 1326])
        // MSS: MTU − 40 and − 60.
        #expect(sizer.sizing.mssClamp(of: t)! == (1286, 1266))
        // Gone from the plan: forgotten.
        sizer.keep(only: try Self.plan("    mtu: 1400"))
        #expect(sizer.sizing.mtus.isEmpty)
    }

    /// A kernel with policy routing: packets from the tunnel's local address take another table.
    final class PolicyRoutedKernel: KernelStateSync {
        var mtus: [String: Int] = [:]
        var asked: [IPAddress?] = []
        func sync(down: Set<String>) throws(DaemonError) -> [String] { [] }
        func update(plan: NodePlan) {}
        func update(mtus: [String: Int]) { self.mtus = mtus }
        func pathMTU(to address: IPAddress) -> Int? { asked.append(nil); return 1500 }
        func pathMTU(to address: IPAddress, from source: IPAddress) -> Int? { asked.append(source); return 1400 }
    }

    /// `mtu: auto` asks for the route the tunnel's packets take: from its local address, so an
    /// `ip rule from LOCAL` table counts (RTM_GETROUTE with RTA_SRC).
    @Test func theSizerAsksForThePathFromTheTunnelsLocalAddress() throws {
        let t = try Self.plan().tunnels[0]
        let kernel = PolicyRoutedKernel()
        #expect(TunnelPathSizer(udpAlways: false).childSAInstalled(Self.sa(), tunnel: t, kernel: kernel, logger: Logger(label: "test")))
        #expect(kernel.asked == [t.ike.localAddress])
        // 1400 − 20 − 8 − 8 − 16 − 2, aligned: the policy-routed path, not the main table's 1500.
        #expect(kernel.mtus == [t.interface.name: 1346])
    }

    @Test func mssClampSettings() throws {
        let sizing = TunnelPathSizing()
        #expect(sizing.mssClamp(of: try Self.plan("    mss-clamp: off").tunnels[0]) == nil)
        #expect(sizing.mssClamp(of: try Self.plan("    mss-clamp: 1200").tunnels[0])! == (1200, 1200))
        // Auto before any Child SA: from the provisional MTU.
        #expect(sizing.mssClamp(of: try Self.plan().tunnels[0])! == (1360, 1340))
    }
}
