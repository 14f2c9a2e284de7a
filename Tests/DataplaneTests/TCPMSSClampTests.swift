@testable import Dataplane
import TestSupport
import Testing

/// `mss-clamp` in the userspace packet path: TCP SYN and SYN-ACK (IPv4, IPv6) get their MSS
/// lowered, never raised, with the checksum updated incrementally (RFC 1624) and verified against
/// a byte-by-byte RFC 1071 reference; everything else, and every malformed packet, is untouched.
struct TCPMSSClampTests {
    static let limits = MSSClampLimits(ipv4: 1358, ipv6: 1338)
    static let syn: UInt8 = 0x02, synAck: UInt8 = 0x12, ack: UInt8 = 0x10, synRst: UInt8 = 0x06

    static func mssOption(_ mss: UInt16) -> [UInt8] { [2, 4, UInt8(mss >> 8), UInt8(mss & 0xFF)] }

    static func clamp(_ packet: inout [UInt8], _ limits: MSSClampLimits = Self.limits) -> TCPMSSClamp.Outcome {
        packet.withUnsafeMutableBytes { TCPMSSClamp.clamp($0, limits: limits) }
    }

    static func mss(in packet: [UInt8], optionAt offset: Int) -> UInt16 {
        UInt16(packet[offset + 2]) << 8 | UInt16(packet[offset + 3])
    }

    @Test("SYN and SYN-ACK, IPv4 and IPv6, are clamped and their checksums still verify", arguments: [false, true])
    func clampsSYNs(v6: Bool) {
        for flags in [Self.syn, Self.synAck] {
            // The usual option layout of Linux: MSS, SACK permitted, timestamps, NOP, window scale.
            let options = Self.mssOption(1460) + [4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
            var p = OffloadTests.tcpPacket(v6: v6, payload: [], flags: flags, options: options)
            let before = p
            #expect(Self.clamp(&p) == .clamped(from: 1460))
            let ip = v6 ? 40 : 20
            #expect(Self.mss(in: p, optionAt: ip + 20) == (v6 ? 1338 : 1358))
            #expect(OffloadTests.checksumsValid(p))
            // Only the MSS and the checksum changed.
            let changed = p.indices.filter { p[$0] != before[$0] }
            #expect(Set(changed).isSubset(of: [ip + 16, ip + 17, ip + 22, ip + 23]))
        }
    }

    /// An MSS behind one NOP starts at an odd offset of the segment: it straddles two checksum words.
    @Test("an MSS option at an odd offset is clamped with a correct checksum")
    func oddOffset() {
        for v6 in [false, true] {
            for mss in [UInt16(1460), 0xFFFF, 1359, 8960] {
                var p = OffloadTests.tcpPacket(v6: v6, payload: [], flags: Self.syn, options: [1] + Self.mssOption(mss) + [1, 1, 0])
                #expect(Self.clamp(&p) == .clamped(from: mss))
                #expect(OffloadTests.checksumsValid(p))
                #expect(Self.mss(in: p, optionAt: (v6 ? 40 : 20) + 21) == (v6 ? 1338 : 1358))
            }
        }
    }

    @Test("a smaller MSS, no MSS, a plain ACK, a SYN with RST, UDP, a later fragment: untouched")
    func leftAlone() {
        var small = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: Self.mssOption(1200))
        let smallBefore = small
        #expect(Self.clamp(&small) == .unchanged)
        #expect(small == smallBefore)
        var none = OffloadTests.tcpPacket(v6: true, payload: [], flags: Self.syn, options: [1, 1, 1, 0])
        #expect(Self.clamp(&none) == .unchanged)
        var data = OffloadTests.tcpPacket(v6: false, payload: OffloadTests.bytes(100, seed: 3), flags: Self.ack, options: Self.mssOption(1460))
        let dataBefore = data
        #expect(Self.clamp(&data) == .notSYN)
        #expect(data == dataBefore)
        var rst = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.synRst, options: Self.mssOption(1460))
        #expect(Self.clamp(&rst) == .notSYN)
        var udp = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: Self.mssOption(1460))
        udp[9] = 17
        #expect(Self.clamp(&udp) == .notSYN)
        var fragment = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: Self.mssOption(1460))
        fragment[7] = 8  // fragment offset 64 octets
        #expect(Self.clamp(&fragment) == .notSYN)
    }

    @Test("malformed SYNs are left as they are: bad lengths, bad data offset, options past the header")
    func malformed() {
        func check(_ p: [UInt8], _ expected: TCPMSSClamp.Outcome, _ what: String) {
            var q = p
            #expect(Self.clamp(&q) == expected, "\(what)")
            #expect(q == p, "\(what)")
        }
        let good = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: Self.mssOption(1460) + [1, 1, 1, 0])
        var zeroLength = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: [1, 0, 0, 0] + Self.mssOption(1460))
        zeroLength[21 + 20] = 0
        zeroLength[20 + 20] = 3
        check(zeroLength, .malformed, "an option of length 0")
        var overrun = good
        overrun[20 + 21] = 40
        check(overrun, .malformed, "an option running past the header")
        var wrongMSSLength = good
        wrongMSSLength[20 + 21] = 3
        check(wrongMSSLength, .malformed, "an MSS option of length 3")
        var offset = good
        offset[20 + 12] = 0x40  // data offset 16 < 20
        check(offset, .malformed, "data offset below 20")
        var offsetPast = good
        offsetPast[20 + 12] = 0xF0  // 60 octets, more than the packet
        check(offsetPast, .malformed, "data offset past the packet")
        var totalLong = good
        totalLong[2] = 0x10
        check(totalLong, .malformed, "IPv4 total length beyond the buffer")
        var ihl = good
        ihl[0] = 0x44
        check(ihl, .malformed, "IHL 16")
        var v6 = OffloadTests.tcpPacket(v6: true, payload: [], flags: Self.syn, options: Self.mssOption(1460))
        v6[4] = 0x7F
        check(v6, .malformed, "IPv6 payload length beyond the buffer")
        let lastOctet = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: [1, 1, 1, 2])
        check(lastOctet, .malformed, "an option kind in the last octet, its length missing")
    }

    /// Every prefix of a SYN and random bytes: never a crash, never a read or write outside the
    /// buffer (the buffer is exactly the packet; Swift traps on out-of-bounds access in debug).
    @Test("truncations and random bytes never crash and never touch bytes outside what they parse")
    func arbitraryBytes() {
        let syn = OffloadTests.tcpPacket(v6: false, payload: [], flags: Self.syn, options: Self.mssOption(1460) + [1, 3, 3, 7])
        let syn6 = OffloadTests.tcpPacket(v6: true, payload: [], flags: Self.syn, options: Self.mssOption(1460) + [1, 3, 3, 7])
        for packet in [syn, syn6] {
            for n in 0..<packet.count {
                var cut = Array(packet[0..<n])
                let before = cut
                let outcome = Self.clamp(&cut)
                #expect(outcome == .notSYN || outcome == .malformed, "prefix \(n)")
                #expect(cut == before)
            }
        }
        var rng = SplitMix64(seed: 14)
        var clamped = 0
        for i in 0..<20_000 {
            let length = Int(rng.next() % 120)
            var p = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Bias towards the interesting shape: IPv4 or IPv6, TCP, SYN set, RST clear.
            if length >= 64, i % 2 == 0 {
                let v6 = i % 4 == 0
                p[0] = v6 ? 0x60 : 0x45
                if v6 { p[6] = 6; p[4] = 0; p[5] = UInt8(length - 40) } else {
                    p[9] = 6; p[6] = 0; p[7] = 0; p[2] = 0; p[3] = UInt8(length)
                }
                let t = v6 ? 40 : 20
                p[t + 13] = (p[t + 13] | 0x02) & ~0x04
                if i % 8 == 0 {
                    // A data offset of 24 and an MSS option first (with random contents).
                    p[t + 12] = 0x60
                    p[t + 20] = 2
                    p[t + 21] = 4
                }
            }
            if case .clamped = Self.clamp(&p) { clamped += 1 }
        }
        #expect(clamped > 0, "the random walk should reach the MSS option sometimes")
    }
}
