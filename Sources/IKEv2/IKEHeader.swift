// RFC 7296 §3.1: the fixed 28-octet IKE header.
import NetTypes

/// The IKE header. Decoding accepts any version so that the engine can still read SPIs and the
/// message ID of a message it must answer with INVALID_MAJOR_VERSION; `IKEMessage` rejects major ≠ 2.
public struct IKEHeader: Hashable, Sendable {
    public static let size = 28
    /// The version this implementation speaks: 2.0.
    public static let majorVersion2: UInt8 = 2

    /// The Flags octet. Only I (0x08), V (0x10) and R (0x20) are defined; other bits are kept as received.
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// I: set by the original initiator of the IKE SA.
        public static let initiator = Flags(rawValue: 0x08)
        /// V: the sender can speak a higher major version.
        public static let version = Flags(rawValue: 0x10)
        /// R: this message is a response.
        public static let response = Flags(rawValue: 0x20)
    }

    public var initiatorSPI: IKESPI
    public var responderSPI: IKESPI
    /// Type of the first payload. `IKEMessage.encode` recomputes it from the payloads.
    public var nextPayload: IKEPayloadType
    public var majorVersion: UInt8
    public var minorVersion: UInt8
    public var exchangeType: IKEExchangeType
    public var flags: Flags
    public var messageID: UInt32
    /// Total message length. `IKEMessage.encode` recomputes it.
    public var length: UInt32

    public init(
        initiatorSPI: IKESPI, responderSPI: IKESPI = .zero, nextPayload: IKEPayloadType = .noNextPayload,
        majorVersion: UInt8 = 2, minorVersion: UInt8 = 0, exchangeType: IKEExchangeType, flags: Flags,
        messageID: UInt32, length: UInt32 = UInt32(IKEHeader.size)
    ) {
        self.initiatorSPI = initiatorSPI
        self.responderSPI = responderSPI
        self.nextPayload = nextPayload
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.exchangeType = exchangeType
        self.flags = flags
        self.messageID = messageID
        self.length = length
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        try reader.require(IKEHeader.size, "IKE header")
        initiatorSPI = IKESPI(try reader.readUInt64())
        responderSPI = IKESPI(try reader.readUInt64())
        nextPayload = IKEPayloadType(rawValue: try reader.readUInt8())
        let version = try reader.readUInt8()
        majorVersion = version >> 4
        minorVersion = version & 0x0F
        exchangeType = IKEExchangeType(rawValue: try reader.readUInt8())
        flags = Flags(rawValue: try reader.readUInt8())
        messageID = try reader.readUInt32()
        length = try reader.readUInt32()
    }

    /// Convenience: decodes the header at the start of `bytes`.
    public init(decoding bytes: [UInt8]) throws(IKEDecodeError) {
        var reader = IKEByteReader(bytes)
        try self.init(decoding: &reader)
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(initiatorSPI.rawValue)
        writer.write(responderSPI.rawValue)
        writer.write(nextPayload.rawValue)
        writer.write(UInt8(truncatingIfNeeded: (majorVersion & 0x0F) << 4 | (minorVersion & 0x0F)))
        writer.write(exchangeType.rawValue)
        writer.write(flags.rawValue)
        writer.write(messageID)
        writer.write(length)
    }

    public var isInitiator: Bool { flags.contains(.initiator) }
    public var isResponse: Bool { flags.contains(.response) }
}
