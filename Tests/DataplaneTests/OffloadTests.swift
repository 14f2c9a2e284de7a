@testable import Dataplane
import TestSupport
import Testing

/// GSO segmentation (TUN super-packets → MSS-sized segments) and GRO coalescing (segments → one
/// GSO write) as pure functions, every checksum checked against a byte-by-byte RFC 1071 reference.
struct OffloadTests {
    // MARK: Reference arithmetic and packet builders

    /// RFC 1071, the obvious way: big-endian 16-bit words, odd byte padded with a zero.
    static func referenceSum(_ bytes: [UInt8]) -> UInt32 {
        var sum: UInt64 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt64(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt32(sum)
    }

    /// True when the IPv4 header checksum and the TCP/UDP checksum (with the pseudo-header built
    /// byte by byte) of `packet` verify.
    static func checksumsValid(_ packet: [UInt8], protocol number: UInt8 = 6) -> Bool {
        let v4 = packet[0] >> 4 == 4
        let ipLength = v4 ? Int(packet[0] & 0x0F) * 4 : 40
        if v4, referenceSum(Array(packet[0..<ipLength])) != 0xFFFF { return false }
        let transport = Array(packet[ipLength...])
        var pseudo = v4 ? Array(packet[12..<20]) : Array(packet[8..<40])
        pseudo += v4 ? [0, number, UInt8(transport.count >> 8), UInt8(transport.count & 0xFF)]
                     : [0, 0, UInt8(transport.count >> 8), UInt8(transport.count & 0xFF), 0, 0, 0, number]
        return referenceSum(pseudo + transport) == 0xFFFF
    }

    /// Deterministic bytes (SplitMix64 from a fixed seed).
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// An IPv4 or IPv6 TCP packet with `options` (a multiple of 4 bytes), `flags`, TOS/traffic class
    /// `tos`, and `payload`, its checksums complete.
    static func tcpPacket(v6: Bool, payload: [UInt8], sequence: UInt32 = 0x1000_0000, flags: UInt8 = 0x10,
                          options: [UInt8] = [], tos: UInt8 = 0, id: UInt16 = 0x4242) -> [UInt8] {
        var tcp: [UInt8] = [0xC0, 0x01, 0x14, 0x51]
        tcp += withUnsafeBytes(of: sequence.bigEndian, Array.init)
        tcp += [0xAB, 0xCD, 0xEF, 0x01, UInt8((20 + options.count) / 4) << 4, flags, 0x01, 0xF5, 0, 0, 0, 0]
        tcp += options + payload
        var ip: [UInt8]
        if v6 {
            ip = [0x60 | tos >> 4, (tos & 0x0F) << 4, 0x12, 0x34, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF), 6, 64]
            ip += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
            ip += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2]
        } else {
            let total = 20 + tcp.count
            ip = [0x45, tos, UInt8(total >> 8), UInt8(total & 0xFF), UInt8(id >> 8), UInt8(id & 0xFF), 0x40, 0, 64, 6, 0, 0,
                  198, 18, 1, 10, 198, 18, 2, 10]
            let sum = ~UInt16(referenceSum(ip))
            ip[10] = UInt8(sum >> 8)
            ip[11] = UInt8(sum & 0xFF)
        }
        var packet = ip + tcp
        let t = ip.count
        packet[t + 16] = 0
        packet[t + 17] = 0
        var pseudo = v6 ? Array(packet[8..<40]) : Array(packet[12..<20])
        pseudo += v6 ? [0, 0, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF), 0, 0, 0, 6] : [0, 6, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF)]
        let sum = ~UInt16(referenceSum(pseudo + Array(packet[t...])))
        packet[t + 16] = UInt8(sum >> 8)
        packet[t + 17] = UInt8(sum & 0xFF)
        return packet
    }

    /// What the kernel hands a TUN reader for a TSO super-packet: the TCP checksum field holds only
    /// the pseudo-header sum (NEEDS_CSUM), IP lengths cover the whole thing.
    static func superPacket(v6: Bool, payload: [UInt8], gsoSize: Int, flags: UInt8, options: [UInt8]) -> ([UInt8], VirtioNetHeader) {
        var packet = tcpPacket(v6: v6, payload: payload, flags: flags, options: options)
        let t = v6 ? 40 : 20
        let pseudo = packet.withUnsafeBytes {
            InternetChecksum.pseudoHeaderSum(ipPacket: $0, version: v6 ? 6 : 4, protocol: 6, length: packet.count - t)
        }
        packet[t + 16] = UInt8(pseudo >> 8)
        packet[t + 17] = UInt8(pseudo & 0xFF)
        let header = VirtioNetHeader(flags: VirtioNetHeader.needsChecksum,
                                     gsoType: (v6 ? VirtioNetHeader.GSOType.tcpIPv6 : .tcpIPv4).rawValue,
                                     headerLength: UInt16(t + 20 + options.count), gsoSize: UInt16(gsoSize),
                                     checksumStart: UInt16(t), checksumOffset: 16)
        return (packet, header)
    }

    static func segment(_ packet: [UInt8], _ header: VirtioNetHeader) throws -> [[UInt8]] {
        try packet.withUnsafeBytes { raw in
            let segmenter = try GSOSegmenter(packet: raw, header: header)
            var output = [UInt8](repeating: 0, count: 65_536)
            return try (0..<segmenter.segmentCount).map { index in
                let length = try #require(output.withUnsafeMutableBytes { segmenter.segment(index, into: $0) })
                return Array(output[0..<length])
            }
        }
    }

    /// Runs the coalescer over `packets` as the inbound worker does; the trains it forms (virtio
    /// header + packet when merged, the packet alone otherwise).
    static func coalesce(_ packets: [[UInt8]]) -> [(header: VirtioNetHeader?, packet: [UInt8])] {
        var result: [(VirtioNetHeader?, [UInt8])] = []
        var index = 0
        while index < packets.count {
            let merged: (Int, [UInt8])? = packets[index].withUnsafeBytes { first in
                guard let head = TCPCoalescer.Segment(first) else { return nil }
                var train = TCPCoalescer(first: head)
                var members = [head]
                var buffers: [UnsafeMutableRawBufferPointer] = []
                defer { buffers.forEach { $0.deallocate() } }
                var next = index + 1
                while next < packets.count {
                    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: packets[next].count, alignment: 8)
                    copy.copyBytes(from: packets[next])
                    buffers.append(copy)
                    guard let segment = TCPCoalescer.Segment(UnsafeRawBufferPointer(copy)), train.append(segment) else { break }
                    members.append(segment)
                    next += 1
                }
                guard train.count > 1 else { return nil }
                var output = [UInt8](repeating: 0, count: train.mergedLength)
                guard let n = output.withUnsafeMutableBytes({ train.merge(members, into: $0) }) else { return nil }
                return (train.count, Array(output[0..<n]))
            }
            if let (count, bytes) = merged {
                let header = bytes.withUnsafeBytes { VirtioNetHeader(decoding: $0) }
                result.append((header, Array(bytes[VirtioNetHeader.size...])))
                index += count
            } else {
                result.append((nil, packets[index]))
                index += 1
            }
        }
        return result
    }

    /// What the kernel does with a NEEDS_CSUM packet: sum from checksumStart, store the complement.
    static func completeChecksum(_ packet: [UInt8], _ header: VirtioNetHeader) -> [UInt8] {
        var p = packet
        let start = Int(header.checksumStart)
        let field = start + Int(header.checksumOffset)
        let sum = ~UInt16(referenceSum(Array(p[start...])))
        p[field] = UInt8(sum >> 8)
        p[field + 1] = UInt8(sum & 0xFF)
        return p
    }

    // MARK: Checksum

    @Test("a UDP GRO buffer splits into its datagrams: equal sizes, a shorter last one, or whole when no usable size came")
    func groDatagrams() {
        #expect(Array(GRODatagrams(length: 300, segmentSize: 100)) == [0..<100, 100..<200, 200..<300])
        #expect(Array(GRODatagrams(length: 250, segmentSize: 100)) == [0..<100, 100..<200, 200..<250])
        #expect(Array(GRODatagrams(length: 100, segmentSize: 1)).count == 100)
        for size in [nil, 0, -5, 100, 101, 5_000] {
            #expect(Array(GRODatagrams(length: 100, segmentSize: size)) == [0..<100], "size \(String(describing: size))")
        }
        // An empty datagram is still one datagram (counted and classified, as before the split).
        #expect(Array(GRODatagrams(length: 0, segmentSize: nil)) == [0..<0])
        #expect(Array(GRODatagrams(length: 0, segmentSize: 4)) == [0..<0])
    }

    @Test("the fast checksum equals RFC 1071's reference for every length 0...300 and with an initial sum")
    func checksumMatchesReference() {
        for length in 0...300 {
            let data = Self.bytes(length, seed: UInt64(length))
            let fast = data.withUnsafeBytes { InternetChecksum.sum($0) }
            #expect(UInt32(fast) == Self.referenceSum(data), "length \(length)")
            let seeded = data.withUnsafeBytes { InternetChecksum.sum($0, initial: 0x1_FFFE) }
            #expect(UInt32(seeded) == Self.referenceSum(data + [0xFF, 0xFE, 0x00, 0x01]), "length \(length) with initial")
        }
    }

    @Test("the vector checksum: unaligned starts, packet sizes, and all-0xFF input past the lane-folding chunk")
    func checksumVectorEdges() {
        for length in [1_348, 1_379, 1_400, 9_000, 65_535] {
            let data = Self.bytes(length + 3, seed: UInt64(length))
            for start in 0...3 {
                let slice = Array(data[start..<(start + length)])
                let fast = data.withUnsafeBytes { InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
                #expect(UInt32(fast) == Self.referenceSum(slice), "length \(length) at offset \(start)")
            }
        }
        // Every 16-bit word 0xFFFF: the largest a lane can grow per step; 3 MB spans three chunks.
        let ones = [UInt8](repeating: 0xFF, count: 3 * InternetChecksum.vectorChunk + 70)
        #expect(ones.withUnsafeBytes { InternetChecksum.sum($0) } == 0xFFFF)
        var mixed = ones
        mixed[mixed.count - 1] = 0x01
        #expect(UInt32(mixed.withUnsafeBytes { InternetChecksum.sum($0) }) == Self.referenceSum(mixed))
    }

    // MARK: Segmentation

    @Test("a TCP super-packet is cut into MSS segments with valid checksums, advancing seq and IPv4 id, odd sizes",
          arguments: [(false, 5_001, 1_348), (true, 5_001, 1_328), (false, 64_000, 1_448), (true, 1_349, 1_348), (false, 100, 7)])
    func segmentation(v6: Bool, payloadLength: Int, gsoSize: Int) throws {
        let payload = Self.bytes(payloadLength, seed: 7)
        let timestamps: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        let flags: UInt8 = 0x10 | 0x08 | 0x01 | 0x80  // ACK PSH FIN CWR
        let (packet, header) = Self.superPacket(v6: v6, payload: payload, gsoSize: gsoSize, flags: flags, options: timestamps)
        let segments = try Self.segment(packet, header)
        #expect(segments.count == (payloadLength + gsoSize - 1) / gsoSize)
        let headers = (v6 ? 40 : 20) + 32
        var reassembled: [UInt8] = []
        for (index, segment) in segments.enumerated() {
            #expect(Self.checksumsValid(segment), "segment \(index)")
            #expect(Array(segment[(headers - 12)..<headers]) == timestamps)
            let t = v6 ? 40 : 20
            let sequence = UInt32(segment[t + 4]) << 24 | UInt32(segment[t + 5]) << 16 | UInt32(segment[t + 6]) << 8 | UInt32(segment[t + 7])
            #expect(sequence == 0x1000_0000 + UInt32(index * gsoSize))
            let last = index == segments.count - 1
            #expect(segment[t + 13] == 0x10 | (last ? 0x09 : 0) | (index == 0 ? 0x80 : 0))
            if v6 {
                #expect(Int(segment[4]) << 8 | Int(segment[5]) == segment.count - 40)
            } else {
                #expect(Int(segment[2]) << 8 | Int(segment[3]) == segment.count)
                #expect(Int(segment[4]) << 8 | Int(segment[5]) == 0x4242 + index)
            }
            #expect(segment.count - headers == (last ? payloadLength - index * gsoSize : gsoSize))
            reassembled += segment[headers...]
        }
        #expect(reassembled == payload)
    }

    @Test("a non-GSO packet with a partial checksum (UDP over IPv6) is completed; others pass unchanged")
    func partialChecksum() throws {
        var udp: [UInt8] = [0x30, 0x39, 0x00, 0x35, 0, 0, 0, 0] + Self.bytes(333, seed: 3)
        udp[4] = UInt8(udp.count >> 8)
        udp[5] = UInt8(udp.count & 0xFF)
        var packet: [UInt8] = [0x60, 0, 0, 0, udp[4], udp[5], 17, 64]
        packet += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        packet += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2]
        packet += udp
        let pseudo = packet.withUnsafeBytes { InternetChecksum.pseudoHeaderSum(ipPacket: $0, version: 6, protocol: 17, length: udp.count) }
        packet[46] = UInt8(pseudo >> 8)
        packet[47] = UInt8(pseudo & 0xFF)
        let header = VirtioNetHeader(flags: VirtioNetHeader.needsChecksum, gsoType: 0, headerLength: 0, gsoSize: 0,
                                     checksumStart: 40, checksumOffset: 6)
        let out = try Self.segment(packet, header)
        #expect(out.count == 1)
        #expect(Self.checksumsValid(out[0], protocol: 17))
        #expect(Array(out[0][0..<46]) == Array(packet[0..<46]))

        let icmp: [UInt8] = [0x45, 0, 0, 29, 0, 1, 0, 0, 64, 1, 0, 0, 198, 18, 1, 10, 198, 18, 2, 10, 8, 0, 0x12, 0x34, 0, 1, 0, 1, 0xAA]
        #expect(try Self.segment(icmp, VirtioNetHeader()) == [icmp])
    }

    @Test("GSO the data plane did not offer, or truncated headers, are refused")
    func segmentationRefusals() {
        let (packet, header) = Self.superPacket(v6: false, payload: Self.bytes(3_000, seed: 1), gsoSize: 1_000, flags: 0x10, options: [])
        var udpType = header
        udpType.gsoType = VirtioNetHeader.GSOType.udpL4.rawValue
        #expect(throws: GSOSegmenter.Failure.self) { try Self.segment(packet, udpType) }
        var wrongFamily = header
        wrongFamily.gsoType = VirtioNetHeader.GSOType.tcpIPv6.rawValue
        #expect(throws: GSOSegmenter.Failure.self) { try Self.segment(packet, wrongFamily) }
        var zero = header
        zero.gsoSize = 0
        #expect(throws: GSOSegmenter.Failure.self) { try Self.segment(packet, zero) }
        #expect(throws: GSOSegmenter.Failure.self) { try Self.segment(Array(packet[0..<30]), header) }
        var beyond = VirtioNetHeader()
        beyond.flags = VirtioNetHeader.needsChecksum
        beyond.checksumStart = 20
        beyond.checksumOffset = UInt16(packet.count)
        #expect(throws: GSOSegmenter.Failure.self) { try Self.segment(packet, beyond) }
    }

    // MARK: Coalescing

    @Test("segments of one super-packet coalesce back into it: same payload, GSO header, completable checksum",
          arguments: [false, true])
    func coalescingRoundTrip(v6: Bool) throws {
        let payload = Self.bytes(20_001, seed: 11)
        let (packet, header) = Self.superPacket(v6: v6, payload: payload, gsoSize: 1_348, flags: 0x18,
                                                options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8])
        let segments = try Self.segment(packet, header)
        let trains = Self.coalesce(segments)
        #expect(trains.count == 1)
        let merged = try #require(trains.first)
        let h = try #require(merged.header)
        #expect(h.gsoType == (v6 ? VirtioNetHeader.GSOType.tcpIPv6 : .tcpIPv4).rawValue)
        #expect(h.gsoSize == 1_348 && h.flags == VirtioNetHeader.needsChecksum)
        #expect(Int(h.checksumStart) == (v6 ? 40 : 20) && h.checksumOffset == 16 && Int(h.headerLength) == (v6 ? 72 : 52))
        let complete = Self.completeChecksum(merged.packet, h)
        #expect(Self.checksumsValid(complete))
        #expect(Array(complete[Int(h.headerLength)...]) == payload)
        #expect(complete[Int(h.checksumStart) + 13] == 0x18)  // PSH of the last segment kept
    }

    @Test("what must not merge stays apart: CE mark, sequence gap, bad checksum, PSH in the middle, short middle, UDP")
    func coalescingRefusals() {
        let a = Self.tcpPacket(v6: false, payload: Self.bytes(1_000, seed: 1), sequence: 1_000)
        let b = Self.tcpPacket(v6: false, payload: Self.bytes(1_000, seed: 2), sequence: 2_000)
        #expect(Self.coalesce([a, b]).count == 1)
        let ce = Self.tcpPacket(v6: false, payload: Self.bytes(1_000, seed: 2), sequence: 2_000, tos: 0x03)
        #expect(Self.coalesce([a, ce]).count == 2)
        let gap = Self.tcpPacket(v6: false, payload: Self.bytes(1_000, seed: 2), sequence: 2_001)
        #expect(Self.coalesce([a, gap]).count == 2)
        var corrupt = b
        corrupt[100] ^= 0x01
        #expect(Self.coalesce([a, corrupt]).count == 2)
        let pushed = Self.tcpPacket(v6: false, payload: Self.bytes(1_000, seed: 1), sequence: 1_000, flags: 0x18)
        #expect(Self.coalesce([pushed, b]).count == 2)
        // A shorter segment ends a train (only the last of a super-packet may be short).
        let short = Self.tcpPacket(v6: false, payload: Self.bytes(999, seed: 3), sequence: 2_000)
        let after = Self.tcpPacket(v6: false, payload: Self.bytes(1_000, seed: 4), sequence: 2_999)
        #expect(Self.coalesce([a, short, after]).map(\.packet.count) == [20 + 20 + 1_999, after.count])
        let syn = Self.tcpPacket(v6: false, payload: Self.bytes(10, seed: 1), sequence: 1_000, flags: 0x12)
        #expect(Self.coalesce([syn, b]).count == 2)
        var udp = a
        udp[9] = 17
        #expect(Self.coalesce([udp, b]).count == 2)
        let v6 = Self.tcpPacket(v6: true, payload: Self.bytes(1_000, seed: 2), sequence: 2_000)
        #expect(Self.coalesce([a, v6]).count == 2)
    }
}
