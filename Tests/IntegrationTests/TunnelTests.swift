import ViaductCrypto
import CryptoCore
@testable import Dataplane
import DataplaneContract
@testable import ESP
import Foundation
import Glibc
import IKEv2
import NetTypes
import Synchronization
import Testing

/// The userspace data plane end to end: two gateways in namespaces, static mirrored keys, real
/// TUN devices, real ESP in UDP over a veth, traffic between two site hosts.
@Suite(.enabled(if: TunnelLab.canRun, TunnelLab.skipMessage))
struct TunnelTests {
    @Test("site hosts reach each other through the tunnel over IPv4 and IPv6 inside")
    func pingBothFamilies() throws {
        let lab = TunnelLab(tag: "ping")
        defer { lab.tearDown() }
        try lab.build()
        try lab.startGateways()
        try lab.installBoth(generation: 1)

        let v4 = try lab.ping(from: lab.hostA, "198.18.2.10", count: 5)
        let v6 = try lab.ping(from: lab.hostB, "2001:db8:1::10", count: 5)
        let inside = try lab.ping(from: lab.gatewayA, "169.254.10.2", count: 3)
        #expect(v4 == (5, 5))
        #expect(v6 == (5, 5))
        #expect(inside == (3, 3))

        let sa = TunnelLab.childSA(forA: true, generation: 1)
        let a = try #require(lab.planeA?.counters(inboundSPI: sa.inboundSPI))
        // 5 + 5 + 3 echo requests or replies each way, at least (IPv6 neighbour traffic may add some).
        #expect(a.inbound.packetsIn >= 13)
        #expect(a.outbound.packetsOut >= 13)
        #expect(a.inbound.dropsTotal == 0)
        #expect(a.carriesOutbound)
        #expect(a.outboundSPI == sa.outboundSPI)
        #expect(lab.planeA?.statistics.unknownSPI == 0)
    }

    /// A bulk TCP transfer: the sender's kernel hands gateway A TSO super-packets that it cuts
    /// (GSOSegmenter), and gateway B writes the decrypted segments back as coalesced GSO packets
    /// (TCPCoalescer, gathered by writev). The receiver's digest proves every byte arrived as sent.
    /// The same with AES-CBC + HMAC-SHA-2 (RFC 3602, RFC 4868): a 24-byte ESP header, padding to
    /// 16 bytes and up to 32 bytes of ICV in the same slots and GSO runs.
    @Test("bulk TCP over IPv4 and IPv6 arrives byte for byte, cut into segments on one side and coalesced on the other",
          arguments: [("198.18.2.10", "AF_INET", nil), ("2001:db8:2::10", "AF_INET6", nil),
                      ("198.18.2.10", "AF_INET", IntegrityAlgorithm.hmacSHA512_256), ("2001:db8:2::10", "AF_INET6", .hmacSHA256_128)])
    func bulkTCPIsCutAndCoalesced(address: String, family: String, cbc: IntegrityAlgorithm?) throws {
        let lab = TunnelLab(tag: (family == "AF_INET" ? "tcp4" : "tcp6") + (cbc == nil ? "" : "c"))
        defer { lab.tearDown() }
        try lab.build()
        try lab.startGateways()
        if let cbc {
            try lab.installBoth(generation: 1, algorithm: .aesCBC(keyBits: 256), integrity: cbc)
        } else {
            try lab.installBoth(generation: 1)
        }
        let size = 16 << 20
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        server.arguments = ["netns", "exec", lab.hostB, "python3", "-c", """
            import hashlib, socket
            s = socket.socket(socket.\(family)); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("\(address)", 9100)); s.listen(1); s.settimeout(20)
            c, _ = s.accept(); c.settimeout(20); h = hashlib.sha256(); n = 0
            while True:
                b = c.recv(1 << 20)
                if not b: break
                h.update(b); n += len(b)
            print(n, h.hexdigest())
            """]
        let pipe = Pipe()
        server.standardOutput = pipe
        server.standardError = pipe
        try server.run()
        let sent = try lab.run("/usr/sbin/ip", "netns", "exec", lab.hostA, "python3", "-c", """
            import hashlib, random, socket, time
            data = random.Random(7).randbytes(\(size))
            for _ in range(100):
                try:
                    c = socket.create_connection(("\(address)", 9100), timeout=20); break
                except OSError: time.sleep(0.05)
            c.sendall(data); c.close()
            print(len(data), hashlib.sha256(data).hexdigest())
            """)
        let received = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        server.waitUntilExit()
        #expect(received.trimmingCharacters(in: .whitespacesAndNewlines) == sent.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(sent.hasPrefix("\(size) "))
        let a = try #require(lab.planeA?.statistics)
        let b = try #require(lab.planeB?.statistics)
        #expect(a.tunSuperPacketsRead > 0, "gateway A read no TSO super-packet")
        #expect(b.tunCoalescedWrites > 0, "gateway B wrote no coalesced packet")
        #expect(b.tunCoalescedSegments > b.tunCoalescedWrites)
        #expect(b.tunWriteErrors == 0)
        #expect(a.offloadErrors == 0 && b.offloadErrors == 0)
    }

    @Test("no SA installed: packets into the TUN are dropped and counted, none sent")
    func noSADrops() throws {
        let lab = TunnelLab(tag: "nosa")
        defer { lab.tearDown() }
        try lab.build()
        try lab.startGateways()
        let result = try lab.ping(from: lab.hostA, "198.18.2.10", count: 2)
        #expect(result.1 == 0)
        let stats = try #require(lab.planeA?.statistics)
        #expect(stats.outboundWithoutSA >= 2)
        #expect(stats.datagramsSent == 0)
    }

    @Test("make-before-break rekey under a running ping loses no packet")
    func rekeyUnderLoad() throws {
        let lab = TunnelLab(tag: "rekey")
        defer { lab.tearDown() }
        try lab.build()
        try lab.startGateways()
        try lab.installBoth(generation: 1)
        let a = try #require(lab.planeA)
        let b = try #require(lab.planeB)
        let old = TunnelLab.childSA(forA: true, generation: 1)
        let new = TunnelLab.childSA(forA: true, generation: 2)
        let oldB = TunnelLab.childSA(forA: false, generation: 1)
        let newB = TunnelLab.childSA(forA: false, generation: 2)

        let count = 300
        let pinger = Process()
        pinger.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        pinger.arguments = ["netns", "exec", lab.hostA, "ping", "-n", "-q", "-c", "\(count)", "-i", "0.01", "-W", "2", "198.18.2.10"]
        let pipe = Pipe()
        pinger.standardOutput = pipe
        pinger.standardError = pipe
        try pinger.run()

        // Rekey once traffic flows on the old SA.
        #expect(TunnelLab.eventually { (a.counters(inboundSPI: old.inboundSPI)?.outbound.packetsOut ?? 0) >= 50 })
        // B (the responder here) installs and switches first: A already accepts nothing new yet, so
        // A installs the new inbound before B sends on it, and switches only after (RFC 7296 §2.8).
        try a.install(new, peer: "peer", activateOutbound: false)
        try b.install(newB, peer: "peer")
        try a.activateOutbound(spi: new.outboundSPI, peer: "peer")
        // Both new inbound SAs have seen packets, so everything sent on the old SPIs before the
        // switch has been processed (one socket, FIFO): the old SAs can go.
        #expect(TunnelLab.eventually { (a.counters(inboundSPI: new.inboundSPI)?.inbound.packetsIn ?? 0) > 0 })
        #expect(TunnelLab.eventually { (b.counters(inboundSPI: newB.inboundSPI)?.inbound.packetsIn ?? 0) > 0 })
        let oldCounters = try #require(a.counters(inboundSPI: old.inboundSPI))
        #expect(!oldCounters.carriesOutbound)
        try a.delete(inboundSPI: old.inboundSPI, outboundSPI: old.outboundSPI, peer: "peer")
        try b.delete(inboundSPI: oldB.inboundSPI, outboundSPI: oldB.outboundSPI, peer: "peer")
        #expect(a.counters(inboundSPI: old.inboundSPI) == nil)

        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        pinger.waitUntilExit()
        let (sent, received) = TunnelLab.pingSummary(output)
        #expect(sent == count)
        #expect(received == count, "ping lost packets during the rekey: \(output)")
        let fresh = try #require(a.counters(inboundSPI: new.inboundSPI))
        #expect(fresh.carriesOutbound)
        #expect(fresh.outbound.packetsOut > 0)
        #expect(oldCounters.outbound.packetsOut + fresh.outbound.packetsOut >= UInt64(count))
        #expect(a.statistics.unknownSPI == 0)
        #expect(fresh.inbound.dropsTotal == 0)
    }

    @Test("bad ICV, replay, unknown SPI and garbage are dropped and counted; good packets still pass")
    func hostileDatagrams() throws {
        let lab = TunnelLab(tag: "drop")
        defer { lab.tearDown() }
        try lab.build()
        let ike = Mutex<[IKEDatagram]>([])
        try lab.startGatewayAOnly { datagram in ike.withLock { $0.append(datagram) } }
        let a = try #require(lab.planeA)
        let sa = TunnelLab.childSA(forA: true, generation: 1)
        try a.install(sa, peer: "peer")

        // B's half of the SA, in the test: it forges what B would send.
        let algorithm = sa.encryption
        let forger = try ESPOutboundSA(spi: sa.inboundSPI,
                                       cipher: OpenSSLCryptoProvider().makeAEAD(algorithm, key: testKey(algorithm, seed: UInt64(sa.inboundSPI.rawValue))),
                                       extendedSequenceNumbers: false)
        let first = try esp(forger, inner: udpToGatewayA())
        let second = try esp(forger, inner: udpToGatewayA())
        var forged = try esp(forger, inner: udpToGatewayA())
        forged[forged.count - 1] ^= 0x01
        let third = try esp(forger, inner: udpToGatewayA())
        var unknown = first
        unknown.replaceSubrange(0..<4, with: [0xDE, 0xAD, 0xBE, 0xEF])
        let ikeMessage = [0, 0, 0, 0] + [UInt8](repeating: 0x22, count: 28)

        let datagrams: [[UInt8]] = [
            first, first,          // accepted, then replayed
            forged,                // bad ICV
            unknown,               // unknown SPI
            [0x01, 0x02, 0x03],    // garbage: too short for anything
            [0x00],                // garbage: one octet that is not a keepalive
            [0x00, 0x00, 0x00, 0x00, 0x01], // garbage: marker without an IKE header
            [0xFF],                // NAT-keepalive
            ikeMessage,            // IKE: handed over
            Array(first.prefix(20)),         // truncated ESP of the right SPI
            second, third,         // good again: the loop survived
        ]
        try NetworkNamespace.run(in: lab.gatewayB) { () throws(DataplaneError) in
            try Injector.send(datagrams, from: IKEEndpoint(address: [192, 0, 2, 2], port: 4501), to: TunnelLab.endpointA)
        }

        #expect(TunnelLab.eventually { a.statistics.datagramsReceived >= UInt64(datagrams.count) })
        let counters = try #require(a.counters(inboundSPI: sa.inboundSPI))
        #expect(counters.inbound.packetsIn == 3)
        #expect(counters.inbound.dropsReplay == 1)
        #expect(counters.inbound.dropsBadICV == 1)
        #expect(counters.inbound.dropsMalformed == 1)
        let stats = a.statistics
        #expect(stats.datagramsReceived == UInt64(datagrams.count))
        #expect(stats.unknownSPI == 1)
        #expect(stats.garbageDatagrams == 3)
        #expect(stats.natKeepalives == 1)
        #expect(stats.ikeDatagrams == 1)
        let handed = ike.withLock { $0 }
        #expect(handed.map(\.bytes) == [Array(ikeMessage.dropFirst(4))])
        #expect(handed.first?.source == IKEEndpoint(address: [192, 0, 2, 2], port: 4501))
    }

    @Test("handleInboundESP: ESP the daemon's socket received takes the same path")
    func daemonHandsESP() throws {
        let lab = TunnelLab(tag: "hand")
        defer { lab.tearDown() }
        try lab.build()
        try lab.startGatewayAOnly()
        let a = try #require(lab.planeA)
        let sa = TunnelLab.childSA(forA: true, generation: 1)
        try a.install(sa, peer: "peer")
        let forger = try ESPOutboundSA(spi: sa.inboundSPI,
                                       cipher: OpenSSLCryptoProvider().makeAEAD(sa.encryption, key: testKey(sa.encryption, seed: UInt64(sa.inboundSPI.rawValue))),
                                       extendedSequenceNumbers: false)
        let packet = try esp(forger, inner: udpToGatewayA())
        a.handleInboundESP(packet, from: TunnelLab.endpointB)
        a.handleInboundESP(packet, from: TunnelLab.endpointB)
        #expect(TunnelLab.eventually { (a.counters(inboundSPI: sa.inboundSPI)?.inbound.dropsReplay ?? 0) == 1 })
        #expect(a.counters(inboundSPI: sa.inboundSPI)?.inbound.packetsIn == 1)
    }
}

/// Sends datagrams from a socket of its own (inside whatever namespace the caller is in).
enum Injector {
    static func send(_ datagrams: [[UInt8]], from local: IKEEndpoint, to destination: IKEEndpoint) throws(DataplaneError) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw DataplaneError(.system, "injector socket", errno: errno) }
        defer { close(fd) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = destination.port.bigEndian
        withUnsafeMutableBytes(of: &to.sin_addr) { $0.copyBytes(from: destination.address) }
        var from = sockaddr_in()
        from.sin_family = sa_family_t(AF_INET)
        from.sin_port = local.port.bigEndian
        withUnsafeMutableBytes(of: &from.sin_addr) { $0.copyBytes(from: local.address) }
        let bound = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw DataplaneError(.system, "injector bind", errno: errno) }
        for datagram in datagrams {
            let sent = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            guard sent == datagram.count else { throw DataplaneError(.system, "injector sendto", errno: errno) }
        }
    }
}

/// An ESP packet carrying `inner`, sealed by `sa` (as the peer would send it).
func esp(_ sa: ESPOutboundSA, inner: [UInt8]) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: sa.headerLength + inner.count + sa.maximumTrailerLength)
    buffer.replaceSubrange(sa.headerLength..<(sa.headerLength + inner.count), with: inner)
    let range = try buffer.withUnsafeMutableBytes { raw in
        try sa.encapsulate(raw, packet: sa.headerLength..<(sa.headerLength + inner.count))
    }
    return Array(buffer[range])
}

/// An IPv4 UDP datagram 169.254.10.2 → 169.254.10.1 port 9 (discard): what B might send A.
func udpToGatewayA() -> [UInt8] {
    var packet: [UInt8] = [0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 169, 254, 10, 2, 169, 254, 10, 1]
    let payload: [UInt8] = Array("viaduct".utf8)
    let udp: [UInt8] = [0x30, 0x39, 0, 9, 0, UInt8(8 + payload.count), 0, 0] + payload
    let total = packet.count + udp.count
    packet[2] = UInt8(total >> 8)
    packet[3] = UInt8(total & 0xFF)
    var sum: UInt32 = 0
    for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(packet[i]) << 8 | UInt32(packet[i + 1]) }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    let checksum = ~UInt16(sum)
    packet[10] = UInt8(checksum >> 8)
    packet[11] = UInt8(checksum & 0xFF)
    return packet + udp
}
