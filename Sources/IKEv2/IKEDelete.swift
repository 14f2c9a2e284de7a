// RFC 7296 §3.11: the Delete payload.
import NetTypes

/// Delete payload body. Deleting the IKE SA: protocol IKE, SPI size 0, no SPIs; deleting Child SAs:
/// protocol ESP/AH, SPI size 4, one or more inbound SPIs of the sender.
public struct IKEDelete: Hashable, Sendable {
    public var protocolID: IKEProtocolID
    /// Octets per SPI; every element of `spis` must have this length.
    public var spiSize: UInt8
    public var spis: [[UInt8]]

    public init(protocolID: IKEProtocolID, spiSize: UInt8, spis: [[UInt8]]) {
        self.protocolID = protocolID
        self.spiSize = spiSize
        self.spis = spis
    }

    /// Delete of the IKE SA carrying this payload.
    public static var ikeSA: IKEDelete { IKEDelete(protocolID: .ike, spiSize: 0, spis: []) }

    /// Delete of ESP (or AH) Child SAs by their 4-octet SPIs.
    public static func childSAs(_ spis: [ESPSPI], protocolID: IKEProtocolID = .esp) -> IKEDelete {
        IKEDelete(
            protocolID: protocolID, spiSize: 4,
            spis: spis.map { spi in (0..<4).map { UInt8(truncatingIfNeeded: spi.rawValue >> UInt32(24 - 8 * $0)) } })
    }

    /// 4-octet SPIs as integers (empty when the SPI size is not 4).
    public var espSPIs: [ESPSPI] {
        guard spiSize == 4 else { return [] }
        return spis.map { ESPSPI($0.reduce(0) { $0 << 8 | UInt32($1) }) }
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        let start = reader.position
        protocolID = IKEProtocolID(rawValue: try reader.readUInt8("delete protocol ID"))
        spiSize = try reader.readUInt8("delete SPI size")
        let count = Int(try reader.readUInt16("delete SPI count"))
        let valid: Bool
        switch protocolID {
        case .ike: valid = spiSize == 0
        case .ah, .esp: valid = spiSize == 4
        case .unspecified, .unknown: valid = spiSize == 0 || spiSize == 4 || spiSize == 8
        }
        guard valid else {
            throw IKEDecodeError(.invalidSPISize, offset: start + 1, context: "delete SPI size \(spiSize) for \(protocolID)")
        }
        guard reader.remaining == count * Int(spiSize), spiSize != 0 || count == 0 else {
            throw IKEDecodeError(
                .countMismatch, offset: start + 2,
                context: "delete announces \(count) SPIs of \(spiSize) octets, has \(reader.remaining) octets")
        }
        var spis: [[UInt8]] = []
        spis.reserveCapacity(count)
        for _ in 0..<count { spis.append(try reader.readBytes(Int(spiSize), "delete SPI")) }
        self.spis = spis
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(protocolID.rawValue)
        writer.write(spiSize)
        writer.writeField16(spis.count, "delete SPI count")
        for spi in spis {
            if spi.count != Int(spiSize) { writer.note("delete SPI of \(spi.count) octets, SPI size \(spiSize)") }
            writer.write(spi)
        }
    }
}
