// RFC 7296 §3.5 and the IANA "IKEv2 Identification Payload ID Types" registry.

/// ID Type of an IDi/IDr payload. Unknown types are preserved (not an error).
public enum IKEIDType: Hashable, Sendable, CustomStringConvertible {
    case ipv4Address     // 1  ID_IPV4_ADDR
    case fqdn            // 2  ID_FQDN
    case rfc822Address   // 3  ID_RFC822_ADDR
    case ipv6Address     // 5  ID_IPV6_ADDR
    case derASN1DN       // 9  ID_DER_ASN1_DN
    case derASN1GN       // 10 ID_DER_ASN1_GN
    case keyID           // 11 ID_KEY_ID
    case fcName          // 12 ID_FC_NAME (RFC 4595)
    case null            // 13 ID_NULL (RFC 7619)
    case unknown(UInt8)

    public init(rawValue: UInt8) {
        switch rawValue {
        case 1: self = .ipv4Address
        case 2: self = .fqdn
        case 3: self = .rfc822Address
        case 5: self = .ipv6Address
        case 9: self = .derASN1DN
        case 10: self = .derASN1GN
        case 11: self = .keyID
        case 12: self = .fcName
        case 13: self = .null
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .ipv4Address: 1
        case .fqdn: 2
        case .rfc822Address: 3
        case .ipv6Address: 5
        case .derASN1DN: 9
        case .derASN1GN: 10
        case .keyID: 11
        case .fcName: 12
        case .null: 13
        case .unknown(let v): v
        }
    }

    public var description: String {
        switch self {
        case .ipv4Address: "ID_IPV4_ADDR"
        case .fqdn: "ID_FQDN"
        case .rfc822Address: "ID_RFC822_ADDR"
        case .ipv6Address: "ID_IPV6_ADDR"
        case .derASN1DN: "ID_DER_ASN1_DN"
        case .derASN1GN: "ID_DER_ASN1_GN"
        case .keyID: "ID_KEY_ID"
        case .fcName: "ID_FC_NAME"
        case .null: "ID_NULL"
        case .unknown(let v): "ID(\(v))"
        }
    }
}
