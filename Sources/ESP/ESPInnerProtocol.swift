// RFC 4303 §2.6 (Next Header) and §3.1.2 (tunnel mode): the inner packet is a whole IP packet.

/// The Next Header values tunnel mode carries, and the inner IP header checks (IPv4: RFC 791 §3.1,
/// IPv6: RFC 8200 §3) that bound the inner packet inside the decrypted payload.
public enum ESPInnerProtocol: UInt8, Sendable, Hashable {
    case ipv4 = 4
    case ipv6 = 41

    /// RFC 4303 §2.6: "No Next Header", the marker of a TFC dummy packet.
    public static let dummyNextHeader: UInt8 = 59

    /// The protocol of an outbound packet from its version nibble.
    static func outbound(_ packet: UnsafeRawBufferPointer) throws(ESPError) -> ESPInnerProtocol {
        guard let first = packet.first else {
            throw ESPError(.unsupportedInnerPacket, "empty inner packet")
        }
        switch first >> 4 {
        case 4 where packet.count >= 20: return .ipv4
        case 6 where packet.count >= 40: return .ipv6
        default: throw ESPError(.unsupportedInnerPacket, "inner packet is not IPv4/IPv6 (version nibble)", value: Int(first >> 4))
        }
    }

    /// The length of the inner packet at the start of `payload` (the decrypted data before the
    /// padding). Anything after it is TFC padding (RFC 4303 §2.7) and is cut off by the caller.
    func innerLength(_ payload: UnsafeRawBufferPointer) throws(ESPError) -> Int {
        switch self {
        case .ipv4:
            guard payload.count >= 20 else {
                throw ESPError(.badInnerHeader, "payload shorter than an IPv4 header", value: payload.count)
            }
            guard payload[0] >> 4 == 4 else {
                throw ESPError(.badInnerHeader, "Next Header 4 but version nibble is not 4", value: Int(payload[0] >> 4))
            }
            let headerLength = Int(payload[0] & 0x0f) * 4
            let total = Int(payload[2]) << 8 | Int(payload[3])
            guard headerLength >= 20, total >= headerLength else {
                throw ESPError(.badInnerHeader, "IPv4 header or total length too small", value: total)
            }
            guard total <= payload.count else {
                throw ESPError(.innerLengthExceedsPayload, "IPv4 total length exceeds the ESP payload", value: total)
            }
            return total
        case .ipv6:
            guard payload.count >= 40 else {
                throw ESPError(.badInnerHeader, "payload shorter than an IPv6 header", value: payload.count)
            }
            guard payload[0] >> 4 == 6 else {
                throw ESPError(.badInnerHeader, "Next Header 41 but version nibble is not 6", value: Int(payload[0] >> 4))
            }
            // Payload Length 0 is a packet with nothing after the fixed header here: a jumbogram
            // (RFC 2675) cannot fit in an ESP packet carried by UDP or a 16-bit IPv4 length.
            let total = 40 + (Int(payload[4]) << 8 | Int(payload[5]))
            guard total <= payload.count else {
                throw ESPError(.innerLengthExceedsPayload, "IPv6 payload length exceeds the ESP payload", value: total)
            }
            return total
        }
    }
}
