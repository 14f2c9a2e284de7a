// RFC 7296 §3.15: the Configuration payload (CP), attributes kept raw.

/// CP payload body: configuration type and raw attributes.
public struct IKEConfiguration: Hashable, Sendable {
    /// CFG_REQUEST 1, CFG_REPLY 2, CFG_SET 3, CFG_ACK 4; other values preserved.
    public var configurationType: UInt8
    public var attributes: [Attribute]

    public static let cfgRequest: UInt8 = 1
    public static let cfgReply: UInt8 = 2
    public static let cfgSet: UInt8 = 3
    public static let cfgAck: UInt8 = 4

    /// One configuration attribute (RFC 7296 §3.15.1): 15-bit type and raw value
    /// (e.g. INTERNAL_IP4_ADDRESS 1, INTERNAL_IP4_DNS 3, INTERNAL_IP6_ADDRESS 8).
    public struct Attribute: Hashable, Sendable {
        public var type: UInt16
        public var value: [UInt8]
        public init(type: UInt16, value: [UInt8] = []) {
            self.type = type
            self.value = value
        }
    }

    public init(configurationType: UInt8, attributes: [Attribute]) {
        self.configurationType = configurationType
        self.attributes = attributes
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        configurationType = try reader.readUInt8("CFG type")
        try reader.skip(3, "CP reserved")
        var attributes: [Attribute] = []
        while !reader.isAtEnd {
            guard attributes.count < IKELimits.maxConfigurationAttributes else {
                throw reader.error(.limitExceeded, "configuration attributes")
            }
            let type = try reader.readUInt16("configuration attribute type") & 0x7FFF
            let length = Int(try reader.readUInt16("configuration attribute length"))
            attributes.append(Attribute(type: type, value: try reader.readBytes(length, "configuration attribute value")))
        }
        self.attributes = attributes
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(configurationType)
        writer.writeZeros(3)
        for attribute in attributes {
            writer.write(attribute.type & 0x7FFF)
            writer.writeField16(attribute.value.count, "configuration attribute length")
            writer.write(attribute.value)
        }
    }
}
