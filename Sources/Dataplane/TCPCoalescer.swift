// The receive-side counterpart of GSOSegmenter: consecutive decrypted TCP segments of one flow
// (the same headers but for lengths, IPv4 identification, checksums, sequence number and PSH)
// are written to the TUN as one GSO super-packet (virtio_net_hdr with VIRTIO_NET_HDR_GSO_TCPV4/6
// and a partial checksum), so the kernel's TCP receive path runs once per train instead of once
// per segment, as Linux's own GRO does (net/ipv4/tcp_offload.c tcp_gro_receive). Only segments that
// would have been cut from such a super-packet merge: in sequence, all but the last exactly
// gsoSize bytes of payload, ACK (and PSH only on the last), identical options (timestamps), no
// fragments, no IPv4 options or IPv6 extension headers, and a valid TCP checksum each (merging
// hides the per-segment checksums, so a corrupted one must not be folded in). ECN: the TOS /
// traffic class byte is among the compared fields, so a CE mark never merges with unmarked ones.
// Everything else is written as it came, in order.

import Glibc

/// A decrypted packet that could head or join a coalesced train. Pure value over borrowed bytes.
struct TCPCoalescer {
    struct Segment {
        let packet: UnsafeRawBufferPointer
        let version: Int
        let ipHeaderLength: Int
        let headersLength: Int
        var payloadLength: Int { packet.count - headersLength }
        let sequence: UInt32
        let push: Bool

        /// The packet as a merge candidate, or nil when it must be written on its own.
        init?(_ packet: UnsafeRawBufferPointer) {
            guard packet.count >= 40 else { return nil }
            switch packet[0] >> 4 {
            case 4:
                guard packet[0] & 0x0F == 5, packet[9] == 6,
                      Int(InternetChecksum.read16(packet, 2)) == packet.count,
                      InternetChecksum.read16(packet, 6) & 0x3FFF == 0 else { return nil }
                version = 4
                ipHeaderLength = 20
            case 6:
                guard packet.count >= 60, packet[6] == 6,
                      Int(InternetChecksum.read16(packet, 4)) + 40 == packet.count else { return nil }
                version = 6
                ipHeaderLength = 40
            default:
                return nil
            }
            let t = ipHeaderLength
            let tcpHeaderLength = Int(packet[t + 12] >> 4) * 4
            guard tcpHeaderLength >= 20, packet.count > t + tcpHeaderLength,
                  packet[t + 13] & ~0x08 == 0x10 else { return nil }  // ACK, maybe PSH, nothing else
            headersLength = t + tcpHeaderLength
            sequence = InternetChecksum.read32(packet, t + 4)
            push = packet[t + 13] & 0x08 != 0
            let pseudo = InternetChecksum.pseudoHeaderSum(ipPacket: packet, version: version, protocol: 6, length: packet.count - t)
            // A valid checksum sums to 0xFFFF (RFC 1071 §1).
            guard InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: packet[t...]), initial: UInt32(pseudo)) == 0xFFFF else { return nil }
            self.packet = packet
        }

        /// Same flow and same header bytes except the fields a segmenter changes.
        func sameHeaders(as other: Segment) -> Bool {
            guard version == other.version, headersLength == other.headersLength,
                  let a = packet.baseAddress, let b = other.packet.baseAddress else { return false }
            func equal(_ range: Range<Int>) -> Bool { memcmp(a + range.lowerBound, b + range.lowerBound, range.count) == 0 }
            let t = ipHeaderLength
            let ip = version == 4
                ? equal(0..<2) && equal(6..<10) && equal(12..<20)  // skip length, identification, checksum
                : equal(0..<4) && equal(6..<40)                     // skip payload length
            // TCP: ports, then acknowledgment ... window, urgent pointer and options; not the
            // sequence number, flags (checked: ACK, PSH), or checksum.
            return ip && equal(t..<(t + 4)) && equal((t + 8)..<(t + 13)) && equal((t + 14)..<(t + 16))
                && equal((t + 18)..<headersLength)
        }
    }

    private(set) var first: Segment
    private(set) var count = 1
    private(set) var payloadLength: Int
    private var lastPayload: Int
    private var lastPush: Bool

    init(first: Segment) {
        self.first = first
        payloadLength = first.payloadLength
        lastPayload = first.payloadLength
        lastPush = first.push
    }

    /// The length of the merged IP packet so far.
    var packetLength: Int { first.headersLength + payloadLength }

    /// Appends `next` when it continues the train; false (and nothing changes) when it does not.
    mutating func append(_ next: Segment) -> Bool {
        guard !lastPush, lastPayload == first.payloadLength, next.payloadLength <= first.payloadLength,
              next.sequence == first.sequence &+ UInt32(truncatingIfNeeded: payloadLength),
              packetLength + next.payloadLength - (first.version == 6 ? 40 : 0) <= 65_535,  // the IP length field
              next.sameHeaders(as: first) else { return false }
        count += 1
        payloadLength += next.payloadLength
        lastPayload = next.payloadLength
        lastPush = next.push
        return true
    }

    /// Bytes `merge` writes: the virtio header and the merged packet.
    var mergedLength: Int { VirtioNetHeader.size + packetLength }

    /// Bytes `writeHeaders` writes: the virtio header and the merged packet's IP and TCP headers.
    var headerBytes: Int { VirtioNetHeader.size + first.headersLength }

    /// Writes the virtio header and the merged packet's IP and TCP headers (the first segment's,
    /// with the train's lengths, PSH and the pseudo-header sum) into `output`; the members'
    /// payloads follow them in order. Returns the bytes written, or nil when `output` is too small.
    func writeHeaders(into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard output.count >= headerBytes, let head = first.packet.baseAddress else { return nil }
        let h = first.headersLength
        let t = first.ipHeaderLength
        VirtioNetHeader(flags: VirtioNetHeader.needsChecksum,
                        gsoType: (first.version == 4 ? VirtioNetHeader.GSOType.tcpIPv4 : .tcpIPv6).rawValue,
                        headerLength: UInt16(h), gsoSize: UInt16(first.payloadLength),
                        checksumStart: UInt16(t), checksumOffset: 16).encode(into: output)
        let headers = UnsafeMutableRawBufferPointer(rebasing: output[VirtioNetHeader.size..<headerBytes])
        guard let out = headers.baseAddress else { return nil }
        out.copyMemory(from: head, byteCount: h)
        let length = packetLength
        if first.version == 4 {
            InternetChecksum.write16(headers, 2, UInt16(length))
            InternetChecksum.write16(headers, 10, 0)
            InternetChecksum.write16(headers, 10, ~InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: headers[0..<t])))
        } else {
            InternetChecksum.write16(headers, 4, UInt16(length - 40))
        }
        if lastPush { headers[t + 13] |= 0x08 }
        // VIRTIO_NET_HDR_F_NEEDS_CSUM: the field holds the pseudo-header sum, not complemented.
        let pseudo = InternetChecksum.pseudoHeaderSum(ipPacket: UnsafeRawBufferPointer(headers), version: first.version,
                                                      protocol: 6, length: length - t)
        InternetChecksum.write16(headers, t + 16, pseudo)
        return headerBytes
    }

    /// Writes the virtio header and the whole merged packet of `segments` (the train's members, in
    /// order, as appended) into `output`, payloads copied; returns the bytes written, or nil when
    /// it is too small. (The data plane writes the same bytes gathered: `writeHeaders` + writev.)
    func merge(_ segments: [Segment], into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard output.count >= mergedLength, var offset = writeHeaders(into: output), let out = output.baseAddress else { return nil }
        for segment in segments {
            guard let source = segment.packet.baseAddress else { return nil }
            (out + offset).copyMemory(from: source + segment.headersLength, byteCount: segment.payloadLength)
            offset += segment.payloadLength
        }
        return mergedLength
    }
}
