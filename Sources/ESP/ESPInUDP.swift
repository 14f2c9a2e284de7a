// RFC 3948 §2.1–2.3: UDP encapsulation of ESP on port 4500, shared with IKE.
import NetTypes

/// What a UDP/4500 payload is. Port 4500 carries three things on one socket, told apart by their
/// first bytes alone, before any state is looked up.
public enum ESPInUDPPayload: Sendable, Hashable {
    /// §2.2: an IKE message after the 4-byte non-ESP marker; `offset` is where the IKE header starts.
    case ike(offset: Int)
    /// §2.1: an ESP packet starting at offset 0, with its (non-zero) SPI.
    case esp(ESPSPI)
    /// §2.3: a NAT-keepalive, a single 0xFF octet. Keeps the NAT mapping; nothing to answer.
    case natKeepalive
    /// None of the above: dropped. The reason is fixed text (no allocation per bad datagram).
    case invalid(StaticString)

    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.ike(let a), .ike(let b)): a == b
        case (.esp(let a), .esp(let b)): a == b
        case (.natKeepalive, .natKeepalive): true
        case (.invalid(let a), .invalid(let b)): a.description == b.description
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .ike(let offset): hasher.combine(0); hasher.combine(offset)
        case .esp(let spi): hasher.combine(1); hasher.combine(spi)
        case .natKeepalive: hasher.combine(2)
        case .invalid(let reason): hasher.combine(3); hasher.combine(reason.description)
        }
    }

    /// Classifies one UDP payload received on port 4500.
    public static func classify(_ payload: UnsafeRawBufferPointer) -> ESPInUDPPayload {
        if payload.count == 1 {
            return payload[0] == 0xFF ? .natKeepalive : .invalid("one-octet payload that is not a NAT-keepalive")
        }
        guard payload.count >= 4 else { return .invalid("shorter than a non-ESP marker or an SPI") }
        let first = UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
        if first == 0 {
            // §2.2: marker, then an IKE header (28 octets, RFC 7296 §3.1).
            return payload.count >= 4 + 28 ? .ike(offset: 4) : .invalid("non-ESP marker without a whole IKE header")
        }
        // §2.1: "the SPI field ... MUST NOT be zero"; an ESP header is SPI and sequence number.
        guard payload.count >= 8 else { return .invalid("shorter than an ESP header") }
        return .esp(ESPSPI(first))
    }

    public static func classify(_ payload: [UInt8]) -> ESPInUDPPayload {
        payload.withUnsafeBytes { classify($0) }
    }
}
