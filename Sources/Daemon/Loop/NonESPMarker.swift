// RFC 3948 §2.2 (non-ESP marker) and §2.3 (NAT-keepalive); RFC 7296 §2.23.
/// What arrived on (or leaves from) UDP port 4500, where IKE and ESP share a socket: IKE
/// messages are prefixed with four zero octets (the non-ESP marker), ESP packets start with a
/// non-zero SPI, and a single 0xFF octet is a NAT-keepalive.
public enum NonESPMarker {
    public static let bytes: [UInt8] = [0, 0, 0, 0]

    public enum Classification: Equatable, Sendable {
        /// An IKE message, marker stripped.
        case ike([UInt8])
        /// An ESP packet (SPI ≠ 0): for the data plane, not the IKE engine.
        case esp
        /// A NAT-keepalive (RFC 3948 §2.3): nothing to do.
        case keepalive
        /// Too short to be anything.
        case malformed
    }

    /// Classifies a datagram received on port 4500.
    public static func classify(_ datagram: [UInt8]) -> Classification {
        if datagram == [0xFF] { return .keepalive }
        guard datagram.count >= 4 else { return .malformed }
        if datagram[0] == 0 && datagram[1] == 0 && datagram[2] == 0 && datagram[3] == 0 {
            return .ike(Array(datagram.dropFirst(4)))
        }
        return .esp
    }

    public static let natTraversalPort: UInt16 = 4500
    public static let ikePort: UInt16 = 500
}
