// RFC 7296 §3.5: the Identification payloads (IDi, IDr).

/// A typed view of an identification.
public enum IKEIdentity: Hashable, Sendable {
    case ipv4(IKEIPv4Address)
    case fqdn(String)
    case rfc822(String)
    case ipv6(IKEIPv6Address)
    case derASN1DN([UInt8])
    case derASN1GN([UInt8])
    case keyID([UInt8])
}

/// IDi/IDr payload body: ID type and data, kept raw (so AUTH can be computed over the exact octets
/// and unknown types round-trip); `identity` gives the typed view.
public struct IKEIdentification: Hashable, Sendable {
    public var type: IKEIDType
    public var data: [UInt8]

    public init(type: IKEIDType, data: [UInt8]) {
        self.type = type
        self.data = data
    }

    public init(_ identity: IKEIdentity) {
        switch identity {
        case .ipv4(let a): self.init(type: .ipv4Address, data: a.bytes)
        case .fqdn(let s): self.init(type: .fqdn, data: Array(s.utf8))
        case .rfc822(let s): self.init(type: .rfc822Address, data: Array(s.utf8))
        case .ipv6(let a): self.init(type: .ipv6Address, data: a.bytes)
        case .derASN1DN(let d): self.init(type: .derASN1DN, data: d)
        case .derASN1GN(let d): self.init(type: .derASN1GN, data: d)
        case .keyID(let d): self.init(type: .keyID, data: d)
        }
    }

    /// The typed identity; nil for unknown types and for data that does not fit its type
    /// (wrong address length, FQDN/RFC822 that is not valid UTF-8).
    public var identity: IKEIdentity? {
        switch type {
        case .ipv4Address: IKEIPv4Address(bytes: data).map { .ipv4($0) }
        case .ipv6Address: IKEIPv6Address(bytes: data).map { .ipv6($0) }
        case .fqdn: String(validating: data, as: UTF8.self).map { .fqdn($0) }
        case .rfc822Address: String(validating: data, as: UTF8.self).map { .rfc822($0) }
        case .derASN1DN: .derASN1DN(data)
        case .derASN1GN: .derASN1GN(data)
        case .keyID: .keyID(data)
        case .fcName, .null, .unknown: nil
        }
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        type = IKEIDType(rawValue: try reader.readUInt8("ID type"))
        try reader.skip(3, "ID reserved")
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(type.rawValue)
        writer.writeZeros(3)
        writer.write(data)
    }
}
