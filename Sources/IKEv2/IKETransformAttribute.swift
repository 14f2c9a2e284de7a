// RFC 7296 §3.3.5: transform attributes (TV and TLV formats).

/// One transform attribute. Key Length (type 14) in TV format is the only one RFC 7296 defines;
/// anything else is kept as received so it round-trips and the engine can reject the transform
/// (RFC 7296 §3.3.6).
public enum IKETransformAttribute: Hashable, Sendable {
    /// Key Length in bits, TV format, attribute type 14.
    case keyLength(UInt16)
    /// Any other TV-format attribute (AF bit set): 15-bit type, 2-octet value.
    case tv(type: UInt16, value: UInt16)
    /// A TLV-format attribute (AF bit clear): 15-bit type, variable value.
    case tlv(type: UInt16, value: [UInt8])

    public static let keyLengthType: UInt16 = 14

    /// The 15-bit attribute type.
    public var type: UInt16 {
        switch self {
        case .keyLength: Self.keyLengthType
        case .tv(let type, _), .tlv(let type, _): type & 0x7FFF
        }
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        let word = try reader.readUInt16("transform attribute type")
        let type = word & 0x7FFF
        if word & 0x8000 != 0 {
            let value = try reader.readUInt16("transform attribute value")
            self = type == Self.keyLengthType ? .keyLength(value) : .tv(type: type, value: value)
        } else {
            let length = try reader.readUInt16("transform attribute length")
            self = .tlv(type: type, value: try reader.readBytes(Int(length), "transform attribute value"))
        }
    }

    public func encode(into writer: inout IKEByteWriter) {
        switch self {
        case .keyLength(let bits):
            writer.write(0x8000 | Self.keyLengthType)
            writer.write(bits)
        case .tv(let type, let value):
            writer.write(0x8000 | (type & 0x7FFF))
            writer.write(value)
        case .tlv(let type, let value):
            writer.write(type & 0x7FFF)
            writer.writeField16(value.count, "TLV attribute length")
            writer.write(value)
        }
    }
}
