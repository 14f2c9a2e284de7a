import ViaductCrypto
import CryptoCore
import Dataplane
import DataplaneContract
import Foundation
import IKEv2
import NetTypes

/// The namespace topology `viaduct bench dataplane` measures (a bench tool, not production code):
///
///     host-a 198.18.1.10 ─ gw-a [vd-b TUN] ═ ESP in UDP 192.0.2.1:4500 ⇄ 192.0.2.2:4500 ═ [vd-a TUN] gw-b ─ host-b 198.18.2.10
///
/// Both gateways' data planes run in this process; their TUN devices and sockets are created
/// inside the gateways' namespaces (`NetworkNamespace.run`). Only namespaces named `vdt-bench-*`
/// and documentation/benchmark addresses are used; `tearDown` deletes the namespaces.
public final class DataplaneBenchmarkLab {
    public let gatewayA = "vdt-bench-gwa", gatewayB = "vdt-bench-gwb", hostA = "vdt-bench-ha", hostB = "vdt-bench-hb"
    public var namespaces: [String] { [gatewayA, gatewayB, hostA, hostB] }
    public private(set) var planes: [UserspaceDataplane] = []

    public init() {}

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    public func build(mtu: Int, batchSize: Int, algorithm: EncryptionAlgorithm) throws {
        tearDown()
        for ns in namespaces { try ip("netns", "add", ns) }
        for ns in namespaces { try ip("-n", ns, "link", "set", "lo", "up") }
        try ip("-n", gatewayA, "link", "add", "wan", "type", "veth", "peer", "name", "wan", "netns", gatewayB)
        try ip("-n", gatewayA, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", hostA)
        try ip("-n", gatewayB, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", hostB)
        try ip("-n", gatewayA, "addr", "add", "192.0.2.1/24", "dev", "wan")
        try ip("-n", gatewayB, "addr", "add", "192.0.2.2/24", "dev", "wan")
        for (gw, host, site) in [(gatewayA, hostA, 1), (gatewayB, hostB, 2)] {
            try ip("-n", gw, "addr", "add", "198.18.\(site).1/24", "dev", "lan")
            try ip("-n", host, "addr", "add", "198.18.\(site).10/24", "dev", "eth0")
            for dev in ["wan", "lan"] { try ip("-n", gw, "link", "set", dev, "up") }
            try ip("-n", host, "link", "set", "eth0", "up")
            try ip("-n", host, "route", "add", "default", "via", "198.18.\(site).1")
            try run("/usr/sbin/ip", ["netns", "exec", gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        }
        let a = IKEEndpoint(address: [192, 0, 2, 1], port: 4500)
        let b = IKEEndpoint(address: [192, 0, 2, 2], port: 4500)
        var random = OpenSSLRandomSource()
        let keyAB = try random.secureBytes(algorithm.keyMaterialLength)
        let keyBA = try random.secureBytes(algorithm.keyMaterialLength)
        for (ns, local, peer, tun, side, far, inKey, outKey, inSPI, outSPI, threads) in [
            (gatewayA, a, b, "vd-b", 1, 2, keyBA, keyAB, UInt32(0x2000_0002), UInt32(0x2000_0001), "gw-a"),
            (gatewayB, b, a, "vd-a", 2, 1, keyAB, keyBA, UInt32(0x2000_0001), UInt32(0x2000_0002), "gw-b"),
        ] {
            let configuration = UserspaceDataplane.Configuration(batchSize: batchSize, threadName: threads)
            let (device, socket) = try NetworkNamespace.run(in: ns) { () throws(DataplaneError) in
                (try TUNDevice(name: tun), try ESPSocket(binding: local))
            }
            try ip("-n", ns, "link", "set", tun, "mtu", "\(mtu)", "up")
            try ip("-n", ns, "addr", "add", "169.254.10.\(side)/30", "dev", tun)
            try ip("-n", ns, "route", "add", "198.18.\(far).0/24", "dev", tun)
            let plane = try UserspaceDataplane(socket: socket, configuration: configuration)
            try plane.addPeer("peer", device: device)
            try plane.start()
            try plane.install(ChildSAParameters(
                inboundSPI: ESPSPI(inSPI), outboundSPI: ESPSPI(outSPI), encryption: algorithm, integrity: nil,
                extendedSequenceNumbers: true, inboundEncryptionKey: inKey, outboundEncryptionKey: outKey,
                inboundIntegrityKey: nil, outboundIntegrityKey: nil, local: local, peer: peer,
                udpEncapsulation: true, lifetimeSeconds: 3600), peer: "peer")
            planes.append(plane)
        }
    }

    public func tearDown() {
        planes.forEach { $0.stop() }
        planes.removeAll()
        for ns in namespaces where FileManager.default.fileExists(atPath: "/run/netns/\(ns)") {
            _ = try? run("/usr/sbin/ip", ["netns", "del", ns])
        }
    }

    func ip(_ arguments: String...) throws { try run("/usr/sbin/ip", arguments) }

    @discardableResult
    public func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failed(description: "\(([executable] + arguments).joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return output
    }
}
