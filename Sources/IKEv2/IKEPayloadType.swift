// RFC 7296 §3.2 and RFC 7383 §2.5: payload type numbers (IANA "IKEv2 Payload Types").

/// A Next Payload value. Unknown values are preserved in `.unknown`.
public enum IKEPayloadType: Hashable, Sendable, CustomStringConvertible {
    case noNextPayload             // 0
    case securityAssociation       // 33 SA
    case keyExchange               // 34 KE
    case identificationInitiator   // 35 IDi
    case identificationResponder   // 36 IDr
    case certificate               // 37 CERT
    case certificateRequest        // 38 CERTREQ
    case authentication            // 39 AUTH
    case nonce                     // 40 Ni, Nr
    case notify                    // 41 N
    case delete                    // 42 D
    case vendorID                  // 43 V
    case trafficSelectorInitiator  // 44 TSi
    case trafficSelectorResponder  // 45 TSr
    case encrypted                 // 46 SK
    case configuration             // 47 CP
    case eap                       // 48 EAP
    case encryptedFragment         // 53 SKF (RFC 7383)
    case unknown(UInt8)

    public init(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .noNextPayload
        case 33: self = .securityAssociation
        case 34: self = .keyExchange
        case 35: self = .identificationInitiator
        case 36: self = .identificationResponder
        case 37: self = .certificate
        case 38: self = .certificateRequest
        case 39: self = .authentication
        case 40: self = .nonce
        case 41: self = .notify
        case 42: self = .delete
        case 43: self = .vendorID
        case 44: self = .trafficSelectorInitiator
        case 45: self = .trafficSelectorResponder
        case 46: self = .encrypted
        case 47: self = .configuration
        case 48: self = .eap
        case 53: self = .encryptedFragment
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .noNextPayload: 0
        case .securityAssociation: 33
        case .keyExchange: 34
        case .identificationInitiator: 35
        case .identificationResponder: 36
        case .certificate: 37
        case .certificateRequest: 38
        case .authentication: 39
        case .nonce: 40
        case .notify: 41
        case .delete: 42
        case .vendorID: 43
        case .trafficSelectorInitiator: 44
        case .trafficSelectorResponder: 45
        case .encrypted: 46
        case .configuration: 47
        case .eap: 48
        case .encryptedFragment: 53
        case .unknown(let v): v
        }
    }

    public var description: String {
        switch self {
        case .noNextPayload: "none"
        case .securityAssociation: "SA"
        case .keyExchange: "KE"
        case .identificationInitiator: "IDi"
        case .identificationResponder: "IDr"
        case .certificate: "CERT"
        case .certificateRequest: "CERTREQ"
        case .authentication: "AUTH"
        case .nonce: "Nonce"
        case .notify: "N"
        case .delete: "D"
        case .vendorID: "V"
        case .trafficSelectorInitiator: "TSi"
        case .trafficSelectorResponder: "TSr"
        case .encrypted: "SK"
        case .configuration: "CP"
        case .eap: "EAP"
        case .encryptedFragment: "SKF"
        case .unknown(let v): "payload(\(v))"
        }
    }
}
