// Segmentation of what a TUN with IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 |
// TUN_F_TSO6) hands us (Documentation/networking/segmentation-offloads.rst): a TCP "super-packet"
// of up to 64 KB with one IP and TCP header, to be cut into gsoSize-byte segments exactly as the
// kernel's tcp_gso_segment would (RFC 9293 §3.1 header fields, RFC 791 / RFC 8200 lengths), or a
// single packet whose transport checksum is only partial (VIRTIO_NET_HDR_F_NEEDS_CSUM).
// Learned from wireguard-go's tun/offload_linux.go; no code copied.

/// One packet read from a TUN with offloads, parsed and validated once, from which the worker
/// then writes segment after segment straight into its ESP slots (no intermediate copies).
/// Pure: bytes in, bytes out.
struct GSOSegmenter {
    struct Failure: Error, Hashable, Sendable {
        let reason: String
    }

    private let packet: UnsafeRawBufferPointer
    private let header: VirtioNetHeader
    private let version: Int
    /// Bytes of IP header (the transport header starts here) and of IP + TCP header.
    private let transportOffset: Int
    private let headersLength: Int
    private let segmentPayload: Int
    /// How many packets `segment(_:into:)` produces (1 when there is nothing to segment).
    let segmentCount: Int

    /// Validates `packet` (the bytes after the virtio header) against `header`.
    init(packet: UnsafeRawBufferPointer, header: VirtioNetHeader) throws(Failure) {
        self.packet = packet
        self.header = header
        guard packet.count >= 1 else { throw Failure(reason: "empty packet") }
        version = Int(packet[0] >> 4)
        let type = header.gsoType & ~VirtioNetHeader.gsoECN
        if type == VirtioNetHeader.GSOType.none.rawValue {
            transportOffset = Int(header.checksumStart)
            headersLength = 0
            segmentPayload = 0
            segmentCount = 1
            if header.flags & VirtioNetHeader.needsChecksum != 0 {
                guard Int(header.checksumStart) + Int(header.checksumOffset) + 2 <= packet.count else {
                    throw Failure(reason: "checksum position beyond the packet")
                }
            }
            return
        }
        switch (type, version) {
        case (VirtioNetHeader.GSOType.tcpIPv4.rawValue, 4):
            guard packet.count >= 20 else { throw Failure(reason: "truncated IPv4 header") }
            transportOffset = Int(packet[0] & 0x0F) * 4
            guard transportOffset >= 20, packet[9] == 6 else { throw Failure(reason: "IPv4 GSO packet that is not TCP") }
        case (VirtioNetHeader.GSOType.tcpIPv6.rawValue, 6):
            // Extension headers would change where the pseudo-header's destination comes from
            // (a routing header); the kernel does not put any on locally sent TCP, so refuse them.
            guard packet.count >= 40, packet[6] == 6 else { throw Failure(reason: "IPv6 GSO packet that is not plain TCP") }
            transportOffset = 40
        default:
            throw Failure(reason: "GSO type \(header.gsoType) for IP version \(version) (only TCP is offered)")
        }
        guard packet.count >= transportOffset + 20 else { throw Failure(reason: "truncated TCP header") }
        let tcpHeaderLength = Int(packet[transportOffset + 12] >> 4) * 4
        guard tcpHeaderLength >= 20 else { throw Failure(reason: "TCP data offset below 5") }
        headersLength = transportOffset + tcpHeaderLength
        guard packet.count > headersLength else { throw Failure(reason: "GSO packet without payload") }
        segmentPayload = Int(header.gsoSize)
        guard segmentPayload > 0 else { throw Failure(reason: "GSO size 0") }
        segmentCount = (packet.count - headersLength + segmentPayload - 1) / segmentPayload
    }

    /// Writes segment `index` (0 ..< segmentCount) at the start of `output`; returns its length,
    /// or nil when `output` is too small.
    func segment(_ index: Int, into output: UnsafeMutableRawBufferPointer) -> Int? {
        if headersLength == 0 {
            // Nothing to cut: the packet as is, its checksum completed when the kernel left it partial.
            guard output.count >= packet.count, let destination = output.baseAddress, let source = packet.baseAddress else { return nil }
            destination.copyMemory(from: source, byteCount: packet.count)
            if header.flags & VirtioNetHeader.needsChecksum != 0 {
                let start = Int(header.checksumStart)
                let field = start + Int(header.checksumOffset)
                // The field holds the pseudo-header sum; summing over it includes it (RFC 1071).
                let sum = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: output[start..<packet.count]))
                InternetChecksum.write16(output, field, ~sum)
            }
            return packet.count
        }
        let payloadStart = headersLength + index * segmentPayload
        let payloadLength = min(segmentPayload, packet.count - payloadStart)
        let length = headersLength + payloadLength
        guard index >= 0, index < segmentCount, output.count >= length,
              let destination = output.baseAddress, let source = packet.baseAddress else { return nil }
        destination.copyMemory(from: source, byteCount: headersLength)
        (destination + headersLength).copyMemory(from: source + payloadStart, byteCount: payloadLength)
        let out = UnsafeRawBufferPointer(output)

        // IP: lengths, and for IPv4 an identification that advances per segment and the header checksum.
        if version == 4 {
            InternetChecksum.write16(output, 2, UInt16(length))
            let id = InternetChecksum.read16(out, 4) &+ UInt16(truncatingIfNeeded: index)
            InternetChecksum.write16(output, 4, id)
            InternetChecksum.write16(output, 10, 0)
            InternetChecksum.write16(output, 10, ~InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: out[0..<transportOffset])))
        } else {
            InternetChecksum.write16(output, 4, UInt16(length - 40))
        }

        // TCP: the sequence number advances; FIN and PSH belong to the last segment only, CWR to
        // the first only (as tcp_gso_segment does).
        let t = transportOffset
        let sequence = InternetChecksum.read32(out, t + 4) &+ UInt32(truncatingIfNeeded: index * segmentPayload)
        InternetChecksum.write32(output, t + 4, sequence)
        var flags = output[t + 13]
        if index != segmentCount - 1 { flags &= ~0x09 }
        if index != 0 { flags &= ~0x80 }
        output[t + 13] = flags
        InternetChecksum.write16(output, t + 16, 0)
        let pseudo = InternetChecksum.pseudoHeaderSum(ipPacket: out, version: version, protocol: 6, length: length - t)
        let sum = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: out[t..<length]), initial: UInt32(pseudo))
        InternetChecksum.write16(output, t + 16, ~sum)
        return length
    }
}
