// RFC 7296 §3.3.1: the Proposal substructure of an SA payload.
import NetTypes

/// One proposal: number, protocol, SPI (0 octets for the initial IKE SA, 8 for an IKE SA rekey,
/// 4 for AH/ESP) and transforms.
public struct IKEProposal: Hashable, Sendable {
    public var number: UInt8
    public var protocolID: IKEProtocolID
    public var spi: [UInt8]
    public var transforms: [IKETransform]

    public init(number: UInt8, protocolID: IKEProtocolID, spi: [UInt8] = [], transforms: [IKETransform]) {
        self.number = number
        self.protocolID = protocolID
        self.spi = spi
        self.transforms = transforms
    }

    /// SPI sizes RFC 7296 allows for a protocol in a proposal.
    static func spiSizeIsValid(_ size: Int, for protocolID: IKEProtocolID) -> Bool {
        switch protocolID {
        case .ike: size == 0 || size == 8
        case .ah, .esp: size == 4
        case .unspecified, .unknown: size == 0 || size == 4 || size == 8
        }
    }

    /// The SPI as an ESP/AH SPI, when it is 4 octets.
    public var espSPI: ESPSPI? {
        guard spi.count == 4 else { return nil }
        return ESPSPI(spi.reduce(0) { $0 << 8 | UInt32($1) })
    }

    /// Decodes one proposal substructure; returns it and its "Last Substruc" octet (0 or 2).
    static func decode(from reader: inout IKEByteReader) throws(IKEDecodeError) -> (IKEProposal, last: UInt8) {
        let start = reader.position
        let last = try reader.readUInt8("proposal last-substruc")
        guard last == 0 || last == 2 else {
            throw IKEDecodeError(.invalidSubstructure, offset: start, context: "proposal last-substruc \(last)")
        }
        try reader.skip(1)
        let length = Int(try reader.readUInt16("proposal length"))
        guard length >= 8 else {
            throw IKEDecodeError(.badSubstructureLength, offset: start + 2, context: "proposal length \(length)")
        }
        var body = try reader.subReader(
            count: length - 4, overrunCode: .badSubstructureLength, shortReadCode: .fieldOverrun, context: "proposal")
        let number = try body.readUInt8()
        let protocolID = IKEProtocolID(rawValue: try body.readUInt8())
        let spiSize = Int(try body.readUInt8())
        guard spiSizeIsValid(spiSize, for: protocolID) else {
            throw IKEDecodeError(.invalidSPISize, offset: start + 6, context: "proposal SPI size \(spiSize) for \(protocolID)")
        }
        let transformCount = Int(try body.readUInt8())
        let spi = try body.readBytes(spiSize, "proposal SPI")
        var transforms: [IKETransform] = []
        var lastFlag: UInt8 = body.isAtEnd ? 0 : 3
        while lastFlag == 3 {
            guard transforms.count < IKELimits.maxTransforms else { throw body.error(.limitExceeded, "transforms") }
            guard !body.isAtEnd else { throw body.error(.invalidSubstructure, "transform announced but proposal ended") }
            let (transform, flag) = try IKETransform.decode(from: &body)
            transforms.append(transform)
            lastFlag = flag
        }
        try body.requireAtEnd("data after the last transform")
        guard transforms.count == transformCount else {
            throw IKEDecodeError(
                .countMismatch, offset: start + 7,
                context: "proposal announces \(transformCount) transforms, carries \(transforms.count)")
        }
        return (IKEProposal(number: number, protocolID: protocolID, spi: spi, transforms: transforms), last)
    }

    func encode(into writer: inout IKEByteWriter, isLast: Bool) {
        writer.write(UInt8(isLast ? 0 : 2))
        writer.write(UInt8(0))
        let lengthIndex = writer.count
        writer.write(UInt16(0))
        writer.write(number)
        writer.write(protocolID.rawValue)
        writer.writeField8(spi.count, "proposal SPI size")
        writer.writeField8(transforms.count, "proposal transform count")
        writer.write(spi)
        for (i, transform) in transforms.enumerated() {
            transform.encode(into: &writer, isLast: i == transforms.count - 1)
        }
        writer.patchField16(writer.count - lengthIndex + 2, at: lengthIndex, "proposal length")
    }
}
