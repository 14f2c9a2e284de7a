// RFC 9293 §3.1 (TCP header: data offset, control bits, options: kind 0 end of list, kind 1 no-op,
// every other kind with a length octet ≥ 2), §3.7.1 (the MSS option: kind 2, length 4, sent in SYN
// segments only); RFC 6691 §2 (MSS = MTU − fixed IP and TCP headers);
// RFC 1624 §3 (incremental checksum update, eqn. 3: HC' = ~(~HC + ~m + m'));
// RFC 1071 §2(B) (a 16-bit value at an odd offset enters the sum byte-swapped);
// RFC 791 §3.1 (IPv4: IHL, total length, fragment offset); RFC 8200 §3 (IPv6: payload length,
// next header), §4.3-§4.6 (hop-by-hop options, routing, destination options: Hdr Ext Len in
// 8-octet units past the first 8; fragment: 8 octets, the offset in the top 13 bits of octets 2-3).

/// The MSS a tunnel clamps TCP SYNs to, per inner IP version (`mss-clamp`).
public struct MSSClampLimits: Hashable, Sendable {
    public var ipv4: UInt16
    public var ipv6: UInt16

    public init(ipv4: UInt16, ipv6: UInt16) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }
}

/// Lowers the MSS option of TCP SYN and SYN-ACK segments in place (never raises it), fixing the
/// TCP checksum incrementally. Any packet that is not a complete, well-formed TCP SYN is left
/// untouched; nothing is read outside the packet. Pure: bytes in, bytes out.
enum TCPMSSClamp {
    enum Outcome: Equatable {
        /// Not TCP, not a SYN, a later fragment, or RST set: the fast path.
        case notSYN
        /// A SYN whose MSS is at or below the limit, or that carries none.
        case unchanged
        /// The MSS was `from`, now the limit.
        case clamped(from: UInt16)
        /// A SYN whose headers or options do not parse; left as it is.
        case malformed
    }

    /// Clamps `packet` (an IP packet, from its first octet) to `limits`.
    @inline(__always)
    static func clamp(_ packet: UnsafeMutableRawBufferPointer, limits: MSSClampLimits) -> Outcome {
        let count = packet.count
        guard count >= 40 else { return .notSYN }  // IPv4 + TCP headers at least
        let version = packet[0] >> 4
        let tcp: Int, end: Int, limit: UInt16
        if version == 4 {
            // Protocol TCP, fragment offset 0, then the control bits: the only test non-SYNs pay.
            guard packet[9] == 6, packet[6] & 0x1F == 0, packet[7] == 0 else { return .notSYN }
            tcp = Int(packet[0] & 0x0F) * 4
            guard tcp >= 20 else { return .malformed }
            end = Int(packet[2]) << 8 | Int(packet[3])
            limit = limits.ipv4
        } else if version == 6 {
            guard count >= 60 else { return .notSYN }
            end = 40 + (Int(packet[4]) << 8 | Int(packet[5]))
            if packet[6] == 6 {
                tcp = 40
            } else {
                switch tcpBehindExtensionHeaders(packet, end: min(end, count)) {
                case .tcp(let at): tcp = at
                case .notTCP: return .notSYN
                case .malformed: return .malformed
                }
            }
            limit = limits.ipv6
        } else {
            return .notSYN
        }
        guard end <= count, tcp + 20 <= end else { return .malformed }
        let flags = packet[tcp + 13]
        guard flags & 0x02 != 0, flags & 0x04 == 0 else { return .notSYN }
        return clampOptions(packet, tcp: tcp, end: end, limit: limit)
    }

    /// Where an IPv6 packet's TCP header starts behind extension headers.
    enum Upper: Equatable {
        case tcp(Int)
        /// Another upper layer, a later fragment, a header the walk does not cross (ESP, AH,
        /// no next header, unknown) or more than `maxExtensionHeaders` of them.
        case notTCP
        /// An extension header that runs past the packet.
        case malformed
    }

    /// Extension headers walked at most: more is no packet a TCP stack sends.
    static let maxExtensionHeaders = 8

    /// RFC 8200 §4: from the fixed header's next header through hop-by-hop, routing, destination
    /// options and fragment headers (`end`: the packet's end, within the buffer). Only an
    /// unfragmented packet or a first fragment (offset 0) gets to TCP; whether the TCP header is
    /// in the first fragment whole is the caller's check against `end`.
    static func tcpBehindExtensionHeaders(_ packet: UnsafeMutableRawBufferPointer, end: Int) -> Upper {
        var next = packet[6], at = 40
        for _ in 0..<maxExtensionHeaders {
            switch next {
            case 6:
                return .tcp(at)
            case 0, 43, 60:  // hop-by-hop options, routing, destination options
                guard at + 8 <= end else { return .malformed }
                let length = (Int(packet[at + 1]) + 1) * 8
                guard at + length <= end else { return .malformed }
                next = packet[at]
                at += length
            case 44:  // fragment
                guard at + 8 <= end else { return .malformed }
                guard packet[at + 2] == 0, packet[at + 3] & 0xF8 == 0 else { return .notTCP }
                next = packet[at]
                at += 8
            default:
                return .notTCP
            }
        }
        return next == 6 ? .tcp(at) : .notTCP
    }

    /// Walks the options of the SYN at `tcp` (whose segment ends at `end`) to the MSS option.
    private static func clampOptions(_ packet: UnsafeMutableRawBufferPointer, tcp: Int, end: Int, limit: UInt16) -> Outcome {
        let dataOffset = Int(packet[tcp + 12] >> 4) * 4
        guard dataOffset >= 20, tcp + dataOffset <= end else { return .malformed }
        let optionsEnd = tcp + dataOffset
        var i = tcp + 20
        while i < optionsEnd {
            let kind = packet[i]
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < optionsEnd else { return .malformed }
            let length = Int(packet[i + 1])
            guard length >= 2, i + length <= optionsEnd else { return .malformed }
            if kind == 2 {
                guard length == 4 else { return .malformed }
                let mss = UInt16(packet[i + 2]) << 8 | UInt16(packet[i + 3])
                guard mss > limit else { return .unchanged }
                packet[i + 2] = UInt8(limit >> 8)
                packet[i + 3] = UInt8(limit & 0xFF)
                updateChecksum(packet, at: tcp + 16, old: mss, new: limit, odd: (i + 2 - tcp) & 1 == 1)
                return .clamped(from: mss)
            }
            i += length
        }
        return .unchanged
    }

    /// RFC 1624 eqn. 3 on the checksum at `offset`, for a 16-bit field changed from `old` to
    /// `new`; `odd`: the field starts at an odd offset of the segment (so it straddles two words).
    private static func updateChecksum(_ packet: UnsafeMutableRawBufferPointer, at offset: Int, old: UInt16, new: UInt16, odd: Bool) {
        let m = odd ? old.byteSwapped : old, m2 = odd ? new.byteSwapped : new
        let hc = UInt16(packet[offset]) << 8 | UInt16(packet[offset + 1])
        var sum = UInt32(~hc) + UInt32(~m) + UInt32(m2)
        sum = (sum & 0xFFFF) + (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16)
        let updated = ~UInt16(sum)
        packet[offset] = UInt8(updated >> 8)
        packet[offset + 1] = UInt8(updated & 0xFF)
    }
}
