// RFC 7296 §3.3.1, §3.10, §3.11: Protocol ID values (IANA "IKEv2 Security Protocol Identifiers").

/// The Protocol ID of a proposal, notification or delete. Unknown values are preserved.
public enum IKEProtocolID: Hashable, Sendable, CustomStringConvertible {
    /// 0: no protocol (Notify about the IKE SA or the message itself).
    case unspecified
    case ike   // 1
    case ah    // 2
    case esp   // 3
    case unknown(UInt8)

    public init(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .ike
        case 2: self = .ah
        case 3: self = .esp
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .unspecified: 0
        case .ike: 1
        case .ah: 2
        case .esp: 3
        case .unknown(let v): v
        }
    }

    public var description: String {
        switch self {
        case .unspecified: "none"
        case .ike: "IKE"
        case .ah: "AH"
        case .esp: "ESP"
        case .unknown(let v): "protocol(\(v))"
        }
    }
}
