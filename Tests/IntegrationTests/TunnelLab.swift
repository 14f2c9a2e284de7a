import CryptoCore
import Dataplane
import DataplaneContract
import ESP
import Foundation
import Glibc
import IKEv2
import NetTypes
import TestSupport
import Testing

/// Two gateways and two site hosts in network namespaces this test creates, joined like this:
///
///     host-a 198.18.1.10 ── gw-a ══ vd-b (TUN) ~~ ESP in UDP 192.0.2.1:4500 ⇄ 192.0.2.2:4500 ~~ vd-a (TUN) ══ gw-b ── host-b 198.18.2.10
///            2001:db8:1::10        169.254.10.1/30, 2001:db8:ff::1/126    169.254.10.2/30, 2001:db8:ff::2/126   2001:db8:2::10
///
/// Each gateway's data plane runs in this process; its TUN device and UDP socket are created on
/// a thread that entered the gateway's namespace (`NetworkNamespace.run`), which binds them there
/// for good, while the data plane's own threads stay in the test's namespace. That is more robust
/// than a helper process under `ip netns exec`: no process to start, wait for or kill, and the
/// test reads counters directly. Addresses come from the documentation/benchmark ranges only.
final class TunnelLab {
    let tag: String
    var namespaces: [String] { [gatewayA, gatewayB, hostA, hostB] }
    var gatewayA: String { TestNamespaceName.make("vdt-dp-\(tag)-gwa") }
    var gatewayB: String { TestNamespaceName.make("vdt-dp-\(tag)-gwb") }
    var hostA: String { TestNamespaceName.make("vdt-dp-\(tag)-ha") }
    var hostB: String { TestNamespaceName.make("vdt-dp-\(tag)-hb") }
    private(set) var planeA: UserspaceDataplane?
    private(set) var planeB: UserspaceDataplane?

    static let endpointA = IKEEndpoint(address: [192, 0, 2, 1], port: 4500)
    static let endpointB = IKEEndpoint(address: [192, 0, 2, 2], port: 4500)

    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/ping")
    }
    static let skipMessage: Comment = "needs root, ip(8) and ping (iputils-ping): creates network namespaces vdt-dp-*-PID"

    init(tag: String) { self.tag = tag }

    /// Namespaces, veths, addresses and routes; TUN devices are added by `startGateways`.
    func build() throws {
        tearDownNamespaces()
        for ns in namespaces { try ip("netns", "add", ns) }
        for ns in namespaces { try ip("-n", ns, "link", "set", "lo", "up") }
        try ip("-n", gatewayA, "link", "add", "wan", "type", "veth", "peer", "name", "wan", "netns", gatewayB)
        try ip("-n", gatewayA, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", hostA)
        try ip("-n", gatewayB, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", hostB)
        try ip("-n", gatewayA, "addr", "add", "192.0.2.1/24", "dev", "wan")
        try ip("-n", gatewayB, "addr", "add", "192.0.2.2/24", "dev", "wan")
        for (gw, host, site) in [(gatewayA, hostA, 1), (gatewayB, hostB, 2)] {
            try ip("-n", gw, "addr", "add", "198.18.\(site).1/24", "dev", "lan")
            try ip("-n", gw, "-6", "addr", "add", "2001:db8:\(site)::1/64", "dev", "lan", "nodad")
            try ip("-n", host, "addr", "add", "198.18.\(site).10/24", "dev", "eth0")
            try ip("-n", host, "-6", "addr", "add", "2001:db8:\(site)::10/64", "dev", "eth0", "nodad")
            for dev in ["wan", "lan"] { try ip("-n", gw, "link", "set", dev, "up") }
            try ip("-n", host, "link", "set", "eth0", "up")
            try ip("-n", host, "route", "add", "default", "via", "198.18.\(site).1")
            try ip("-n", host, "-6", "route", "add", "default", "via", "2001:db8:\(site)::1")
            try run("/usr/sbin/ip", "netns", "exec", gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
            try run("/usr/sbin/ip", "netns", "exec", gw, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
        }
    }

    /// Opens each gateway's TUN and socket inside its namespace, configures the TUN the way the
    /// reconciler would (MTU, inside addresses, routes to the far site), and starts both data
    /// planes. `ikeHandler` goes to gateway A.
    func startGateways(ikeHandler: (@Sendable (IKEDatagram) -> Void)? = nil) throws {
        planeA = try startGateway(namespace: gatewayA, endpoint: Self.endpointA, interface: "vd-b", side: 1,
                                  farSite: 2, ikeHandler: ikeHandler)
        planeB = try startGateway(namespace: gatewayB, endpoint: Self.endpointB, interface: "vd-a", side: 2,
                                  farSite: 1, ikeHandler: nil)
    }

    /// Only gateway A's data plane (for injection tests: nobody else sends it ESP).
    func startGatewayAOnly(ikeHandler: (@Sendable (IKEDatagram) -> Void)? = nil) throws {
        planeA = try startGateway(namespace: gatewayA, endpoint: Self.endpointA, interface: "vd-b", side: 1,
                                  farSite: 2, ikeHandler: ikeHandler)
    }

    private func startGateway(namespace: String, endpoint: IKEEndpoint, interface: String, side: Int, farSite: Int,
                              ikeHandler: (@Sendable (IKEDatagram) -> Void)?) throws -> UserspaceDataplane {
        let (device, socket) = try NetworkNamespace.run(in: namespace) { () throws(DataplaneError) in
            (try TUNDevice(name: interface), try ESPSocket(binding: endpoint))
        }
        try ip("-n", namespace, "link", "set", interface, "mtu", "1400", "up")
        try ip("-n", namespace, "addr", "add", "169.254.10.\(side)/30", "dev", interface)
        try ip("-n", namespace, "-6", "addr", "add", "2001:db8:ff::\(side)/126", "dev", interface, "nodad")
        try ip("-n", namespace, "route", "add", "198.18.\(farSite).0/24", "dev", interface)
        try ip("-n", namespace, "-6", "route", "add", "2001:db8:\(farSite)::/64", "dev", interface)
        let plane = try UserspaceDataplane(socket: socket, ikeHandler: ikeHandler)
        try plane.addPeer("peer", device: device)
        try plane.start()
        return plane
    }

    /// The static, mirrored Child SA of a test: A's outbound is B's inbound and vice versa.
    /// `integrity` non-nil: `algorithm` is AES-CBC and the SA gets integrity keys too.
    static func childSA(forA: Bool, generation: UInt32, algorithm: EncryptionAlgorithm = .aesGCM16(keyBits: 256),
                        integrity: IntegrityAlgorithm? = nil) -> ChildSAParameters {
        let spiAtoB: UInt32 = 0x1000_0000 + generation * 2
        let spiBtoA: UInt32 = 0x1000_0001 + generation * 2
        let keyAtoB = testKey(algorithm, seed: UInt64(spiAtoB))
        let keyBtoA = testKey(algorithm, seed: UInt64(spiBtoA))
        let integAtoB = integrity.map { testKey(length: $0.keyLength, seed: UInt64(spiAtoB) << 8) }
        let integBtoA = integrity.map { testKey(length: $0.keyLength, seed: UInt64(spiBtoA) << 8) }
        return ChildSAParameters(
            inboundSPI: ESPSPI(forA ? spiBtoA : spiAtoB), outboundSPI: ESPSPI(forA ? spiAtoB : spiBtoA),
            encryption: algorithm, integrity: integrity, extendedSequenceNumbers: false,
            inboundEncryptionKey: forA ? keyBtoA : keyAtoB, outboundEncryptionKey: forA ? keyAtoB : keyBtoA,
            inboundIntegrityKey: forA ? integBtoA : integAtoB, outboundIntegrityKey: forA ? integAtoB : integBtoA,
            local: forA ? endpointA : endpointB, peer: forA ? endpointB : endpointA,
            udpEncapsulation: true, lifetimeSeconds: 3600)
    }

    func installBoth(generation: UInt32, algorithm: EncryptionAlgorithm = .aesGCM16(keyBits: 256),
                     integrity: IntegrityAlgorithm? = nil) throws {
        try planeA?.install(Self.childSA(forA: true, generation: generation, algorithm: algorithm, integrity: integrity), peer: "peer")
        try planeB?.install(Self.childSA(forA: false, generation: generation, algorithm: algorithm, integrity: integrity), peer: "peer")
    }

    func tearDown() {
        planeA?.stop()
        planeB?.stop()
        planeA = nil
        planeB = nil
        tearDownNamespaces()
    }

    private func tearDownNamespaces() {
        for ns in namespaces where FileManager.default.fileExists(atPath: "/run/netns/\(ns)") {
            _ = try? run("/usr/sbin/ip", "netns", "del", ns)
        }
    }

    // MARK: Commands

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(command) exited \(status): \(output)" }
    }

    func ip(_ arguments: String...) throws { try run("/usr/sbin/ip", arguments) }

    @discardableResult
    func run(_ executable: String, _ arguments: String...) throws -> String { try run(executable, arguments) }

    @discardableResult
    func run(_ executable: String, _ arguments: [String]) throws -> String {
        let (status, output) = try Self.execute(executable, arguments)
        guard status == 0 else {
            throw CommandFailed(command: ([executable] + arguments).joined(separator: " "), status: status, output: output)
        }
        return output
    }

    /// Runs a command to completion; its exit status and combined output.
    static func execute(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let r = try TestProcess.run(executable, arguments)
        return (r.status, r.output)
    }

    /// `ping` from one namespace; returns (transmitted, received) from its summary line.
    func ping(from namespace: String, _ destination: String, count: Int, interval: String = "0.2") throws -> (Int, Int) {
        let (_, output) = try Self.execute("/usr/sbin/ip", ["netns", "exec", namespace, "ping", "-n", "-q", "-c", "\(count)",
                                                            "-i", interval, "-W", "2", destination])
        return Self.pingSummary(output)
    }

    static func pingSummary(_ output: String) -> (Int, Int) {
        // "5 packets transmitted, 5 received, 0% packet loss, time 804ms"
        guard let line = output.split(separator: "\n").first(where: { $0.contains("packets transmitted") }) else { return (0, 0) }
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        return numbers.count >= 2 ? (numbers[0], numbers[1]) : (0, 0)
    }

    /// Waits until `condition` holds or `seconds` pass; the caller asserts on the state after.
    /// (A wait for an event, not a timing assertion.)
    @discardableResult
    static func eventually(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

/// Key material from a seed (never a real key).
func testKey(_ algorithm: EncryptionAlgorithm, seed: UInt64) -> SecureBytes {
    testKey(length: algorithm.keyMaterialLength, seed: seed)
}

func testKey(length: Int, seed: UInt64) -> SecureBytes {
    var state = seed
    var bytes: [UInt8] = []
    for _ in 0..<length {
        // SplitMix64 step: deterministic, seedable.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        bytes.append(UInt8(truncatingIfNeeded: z ^ (z >> 31)))
    }
    return SecureBytes(bytes)
}
