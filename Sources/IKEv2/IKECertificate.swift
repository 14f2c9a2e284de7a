// RFC 7296 §3.6: the Certificate payload (and the Certificate Encoding registry of §3.6).

/// Certificate Encoding values (RFC 7296 §3.6, RFC 7670). Unknown values preserved.
public enum IKECertificateEncoding: Hashable, Sendable {
    case pkcs7X509                   // 1
    case x509Signature               // 4
    case crl                         // 7
    case hashAndURLX509              // 12
    case hashAndURLX509Bundle        // 13
    case rawPublicKey                // 15 (RFC 7670)
    case unknown(UInt8)

    public init(rawValue: UInt8) {
        switch rawValue {
        case 1: self = .pkcs7X509
        case 4: self = .x509Signature
        case 7: self = .crl
        case 12: self = .hashAndURLX509
        case 13: self = .hashAndURLX509Bundle
        case 15: self = .rawPublicKey
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .pkcs7X509: 1
        case .x509Signature: 4
        case .crl: 7
        case .hashAndURLX509: 12
        case .hashAndURLX509Bundle: 13
        case .rawPublicKey: 15
        case .unknown(let v): v
        }
    }
}

/// CERT payload body: encoding and opaque certificate data (DER for X.509).
public struct IKECertificate: Hashable, Sendable {
    public var encoding: IKECertificateEncoding
    public var data: [UInt8]

    public init(encoding: IKECertificateEncoding, data: [UInt8]) {
        self.encoding = encoding
        self.data = data
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        encoding = IKECertificateEncoding(rawValue: try reader.readUInt8("certificate encoding"))
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(encoding.rawValue)
        writer.write(data)
    }
}
