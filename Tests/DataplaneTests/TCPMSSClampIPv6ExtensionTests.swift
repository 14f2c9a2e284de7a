@testable import Dataplane
import TestSupport
import Testing

/// `mss-clamp` on IPv6 SYNs behind extension headers (RFC 8200 §4): hop-by-hop, routing and
/// destination options headers are crossed, a fragment header only at offset 0; a later
/// fragment, a header the walk does not cross, too many headers or one that runs past the
/// packet leave the packet as it is.
struct TCPMSSClampIPv6ExtensionTests {
    typealias Base = TCPMSSClampTests

    /// An extension header of `type` with `length` octets (a multiple of 8; the fragment
    /// header's 8), its next-header octet filled in by `inserting`.
    static func header(_ type: UInt8, length: Int = 8, fragmentOffset: UInt16 = 0, more: Bool = false) -> [UInt8] {
        if type == 44 {
            let field = fragmentOffset << 3 | (more ? 1 : 0)
            return [0, 0, UInt8(field >> 8), UInt8(field & 0xFF), 0xCA, 0xFE, 0xBE, 0xEF]
        }
        // Hdr Ext Len, then PadN filling the rest (routing: type 0... segments left 0 are zeros too).
        return [0, UInt8(length / 8 - 1)] + [UInt8](repeating: 0, count: length - 2)
    }

    /// `packet` (IPv6 + TCP, from `OffloadTests.tcpPacket`) with `headers` (type, bytes)
    /// inserted after the fixed header, the next-header chain and payload length fixed.
    static func inserting(_ headers: [(type: UInt8, bytes: [UInt8])], into packet: [UInt8]) -> [UInt8] {
        var p = Array(packet[0..<40])
        let upper = packet[6]
        let chain = headers.map(\.type) + [upper]
        p[6] = chain[0]
        for (i, h) in headers.enumerated() {
            var bytes = h.bytes
            bytes[0] = chain[i + 1]
            p += bytes
        }
        p += packet[40...]
        let payload = p.count - 40
        p[4] = UInt8(payload >> 8)
        p[5] = UInt8(payload & 0xFF)
        return p
    }

    static func syn(_ mss: UInt16 = 1460) -> [UInt8] {
        OffloadTests.tcpPacket(v6: true, payload: [], flags: Base.syn, options: Base.mssOption(mss) + [1, 3, 3, 7])
    }

    /// The clamped packet behind headers is the clamped plain packet with the headers in
    /// front: same MSS, same (verified) checksum.
    @Test("a SYN behind hop-by-hop, routing, destination options and a first-fragment header is clamped")
    func clampedBehindHeaders() {
        var plain = Self.syn()
        #expect(Base.clamp(&plain) == .clamped(from: 1460))
        #expect(OffloadTests.checksumsValid(plain))
        let layouts: [[(type: UInt8, bytes: [UInt8])]] = [
            [(0, Self.header(0))],
            [(43, Self.header(43, length: 24))],
            [(60, Self.header(60, length: 16))],
            [(44, Self.header(44))],
            [(44, Self.header(44, more: true))],
            [(0, Self.header(0)), (60, Self.header(60)), (43, Self.header(43, length: 24)), (44, Self.header(44, more: true)), (60, Self.header(60))],
        ]
        for headers in layouts {
            var p = Self.inserting(headers, into: Self.syn())
            #expect(Base.clamp(&p) == .clamped(from: 1460), "\(headers.map(\.type))")
            #expect(p == Self.inserting(headers, into: plain), "\(headers.map(\.type))")
        }
        // A SYN-ACK, an MSS at an odd offset, and the IPv6 limit, not the IPv4 one.
        var odd = Self.inserting([(60, Self.header(60))],
                                 into: OffloadTests.tcpPacket(v6: true, payload: [], flags: Base.synAck, options: [1] + Base.mssOption(9000) + [1, 1, 0]))
        #expect(Base.clamp(&odd) == .clamped(from: 9000))
        #expect(Base.mss(in: odd, optionAt: 48 + 21) == 1338)
    }

    @Test("a later fragment, ESP, no next header, UDP behind headers, nine headers: untouched")
    func leftAlone() {
        let cases: [(String, [UInt8], TCPMSSClamp.Outcome)] = [
            ("a later fragment", Self.inserting([(44, Self.header(44, fragmentOffset: 8))], into: Self.syn()), .notSYN),
            ("a later fragment behind hop-by-hop",
             Self.inserting([(0, Self.header(0)), (44, Self.header(44, fragmentOffset: 1, more: true))], into: Self.syn()), .notSYN),
            ("nine destination options headers",
             Self.inserting(Array(repeating: (60, Self.header(60)), count: 9), into: Self.syn()), .notSYN),
        ]
        for (what, packet, expected) in cases {
            var p = packet
            #expect(Base.clamp(&p) == expected, "\(what)")
            #expect(p == packet, "\(what)")
        }
        // Eight is the most the walk crosses.
        var eight = Self.inserting(Array(repeating: (60, Self.header(60)), count: 8), into: Self.syn())
        #expect(Base.clamp(&eight) == .clamped(from: 1460))
        // ESP (50), no next header (59), UDP (17) after a hop-by-hop header.
        for upper: UInt8 in [50, 59, 17] {
            var packet = Self.inserting([(0, Self.header(0))], into: Self.syn())
            packet[40] = upper
            let before = packet
            #expect(Base.clamp(&packet) == .notSYN, "\(upper)")
            #expect(packet == before)
        }
    }

    @Test("an extension header past the packet, a first fragment without the whole TCP header: untouched")
    func malformed() {
        // Hdr Ext Len says 2048 octets.
        var long = Self.inserting([(60, Self.header(60))], into: Self.syn())
        long[41] = 255
        let longBefore = long
        #expect(Base.clamp(&long) == .malformed)
        #expect(long == longBefore)
        // The payload length ends inside the routing header.
        var short = Self.inserting([(43, Self.header(43, length: 24))], into: Self.syn())
        short[4] = 0
        short[5] = 16
        let shortBefore = short
        #expect(Base.clamp(&short) == .malformed)
        #expect(short == shortBefore)
        // A first fragment that ends inside the TCP options: the MSS is not all there.
        let whole = Self.inserting([(44, Self.header(44, more: true))], into: Self.syn())
        var cut = Array(whole[0..<(48 + 22)])
        cut[4] = 0
        cut[5] = UInt8(cut.count - 40)
        let cutBefore = cut
        #expect(Base.clamp(&cut) == .malformed)
        #expect(cut == cutBefore)
    }

    /// Every prefix of a SYN behind every kind of header, with the payload length left as it
    /// was or set to the prefix: never a crash, never a change to a packet that is cut short.
    @Test("truncations behind extension headers never crash and never change the packet")
    func truncations() {
        let packet = Self.inserting([(0, Self.header(0)), (43, Self.header(43, length: 24)), (44, Self.header(44, more: true)),
                                     (60, Self.header(60))], into: Self.syn())
        for n in 0..<packet.count {
            for fixLength in [false, true] {
                var cut = Array(packet[0..<n])
                if fixLength, n >= 40 {
                    cut[4] = UInt8((n - 40) >> 8)
                    cut[5] = UInt8((n - 40) & 0xFF)
                }
                let before = cut
                #expect(Base.clamp(&cut) != .clamped(from: 1460) || n == packet.count, "\(n)")
                #expect(cut == before, "\(n)")
            }
        }
    }
}
