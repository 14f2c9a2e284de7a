// RFC 7296 §3.1 and the IANA "IKEv2 Exchange Types" registry.

/// The Exchange Type octet of the IKE header. Unknown values are preserved in `.unknown`.
public enum IKEExchangeType: Hashable, Sendable, CustomStringConvertible {
    case ikeSAInit            // 34
    case ikeAuth              // 35
    case createChildSA        // 36
    case informational        // 37
    case ikeSessionResume     // 38, RFC 5723
    case ikeIntermediate      // 43, RFC 9242
    case ikeFollowupKE        // 44, RFC 9370
    case unknown(UInt8)

    public init(rawValue: UInt8) {
        switch rawValue {
        case 34: self = .ikeSAInit
        case 35: self = .ikeAuth
        case 36: self = .createChildSA
        case 37: self = .informational
        case 38: self = .ikeSessionResume
        case 43: self = .ikeIntermediate
        case 44: self = .ikeFollowupKE
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .ikeSAInit: 34
        case .ikeAuth: 35
        case .createChildSA: 36
        case .informational: 37
        case .ikeSessionResume: 38
        case .ikeIntermediate: 43
        case .ikeFollowupKE: 44
        case .unknown(let v): v
        }
    }

    public var description: String {
        switch self {
        case .ikeSAInit: "IKE_SA_INIT"
        case .ikeAuth: "IKE_AUTH"
        case .createChildSA: "CREATE_CHILD_SA"
        case .informational: "INFORMATIONAL"
        case .ikeSessionResume: "IKE_SESSION_RESUME"
        case .ikeIntermediate: "IKE_INTERMEDIATE"
        case .ikeFollowupKE: "IKE_FOLLOWUP_KE"
        case .unknown(let v): "exchange(\(v))"
        }
    }
}
