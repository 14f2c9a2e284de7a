// RFC 7296 §3.8: the Authentication payload (and RFC 7427 Digital Signature method 14).

/// Auth Method values (IANA "IKEv2 Authentication Method"). Unknown values preserved.
public enum IKEAuthMethod: Hashable, Sendable {
    case rsaDigitalSignature      // 1
    case sharedKeyMIC             // 2
    case dssDigitalSignature      // 3
    case ecdsaSHA256P256          // 9  (RFC 4754)
    case ecdsaSHA384P384          // 10
    case ecdsaSHA512P521          // 11
    case genericSecurePassword    // 12 (RFC 6467)
    case nullAuthentication       // 13 (RFC 7619)
    case digitalSignature         // 14 (RFC 7427)
    case unknown(UInt8)

    public init(rawValue: UInt8) {
        switch rawValue {
        case 1: self = .rsaDigitalSignature
        case 2: self = .sharedKeyMIC
        case 3: self = .dssDigitalSignature
        case 9: self = .ecdsaSHA256P256
        case 10: self = .ecdsaSHA384P384
        case 11: self = .ecdsaSHA512P521
        case 12: self = .genericSecurePassword
        case 13: self = .nullAuthentication
        case 14: self = .digitalSignature
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .rsaDigitalSignature: 1
        case .sharedKeyMIC: 2
        case .dssDigitalSignature: 3
        case .ecdsaSHA256P256: 9
        case .ecdsaSHA384P384: 10
        case .ecdsaSHA512P521: 11
        case .genericSecurePassword: 12
        case .nullAuthentication: 13
        case .digitalSignature: 14
        case .unknown(let v): v
        }
    }
}

/// AUTH payload body: method and opaque authentication data.
public struct IKEAuthentication: Hashable, Sendable {
    public var method: IKEAuthMethod
    public var data: [UInt8]

    public init(method: IKEAuthMethod, data: [UInt8]) {
        self.method = method
        self.data = data
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        method = IKEAuthMethod(rawValue: try reader.readUInt8("auth method"))
        try reader.skip(3, "auth reserved")
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(method.rawValue)
        writer.writeZeros(3)
        writer.write(data)
    }
}
