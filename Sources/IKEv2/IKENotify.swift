// RFC 7296 §3.10: the Notify payload.
import NetTypes

/// Notify payload body. SPI is empty when the notification concerns the IKE SA (RFC 7296 §3.10),
/// 4 octets for an ESP/AH SA; 8 is tolerated for interoperability.
public struct IKENotify: Hashable, Sendable {
    public var protocolID: IKEProtocolID
    public var spi: [UInt8]
    public var type: IKENotifyType
    public var data: [UInt8]

    public init(protocolID: IKEProtocolID = .unspecified, spi: [UInt8] = [], type: IKENotifyType, data: [UInt8] = []) {
        self.protocolID = protocolID
        self.spi = spi
        self.type = type
        self.data = data
    }

    /// The SPI as an ESP/AH SPI, when it is 4 octets.
    public var espSPI: ESPSPI? {
        guard spi.count == 4 else { return nil }
        return ESPSPI(spi.reduce(0) { $0 << 8 | UInt32($1) })
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        protocolID = IKEProtocolID(rawValue: try reader.readUInt8("notify protocol ID"))
        let spiOffset = reader.position
        let spiSize = Int(try reader.readUInt8("notify SPI size"))
        guard spiSize == 0 || spiSize == 4 || spiSize == 8 else {
            throw IKEDecodeError(.invalidSPISize, offset: spiOffset, context: "notify SPI size \(spiSize)")
        }
        type = IKENotifyType(rawValue: try reader.readUInt16("notify message type"))
        spi = try reader.readBytes(spiSize, "notify SPI")
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(protocolID.rawValue)
        writer.writeField8(spi.count, "notify SPI size")
        writer.write(type.rawValue)
        writer.write(spi)
        writer.write(data)
    }
}
