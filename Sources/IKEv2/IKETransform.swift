// RFC 7296 §3.3.2: the Transform substructure of a proposal.

/// One transform, kept raw (type and ID as numbers) so that unknown algorithms round-trip and can be
/// skipped during negotiation. `IKETransform+CryptoCore.swift` maps to and from CryptoCore's enums.
public struct IKETransform: Hashable, Sendable {
    /// Transform Type (1 ENCR, 2 PRF, 3 INTEG, 4 KE, 5 ESN, others preserved).
    public var type: UInt8
    /// Transform ID within the type.
    public var id: UInt16
    public var attributes: [IKETransformAttribute]

    public init(type: UInt8, id: UInt16, attributes: [IKETransformAttribute] = []) {
        self.type = type
        self.id = id
        self.attributes = attributes
    }

    /// The Key Length attribute, if present.
    public var keyLength: UInt16? {
        for case .keyLength(let bits) in attributes { return bits }
        return nil
    }

    /// Decodes one transform substructure; returns it and its "Last Substruc" octet (0 or 3).
    static func decode(from reader: inout IKEByteReader) throws(IKEDecodeError) -> (IKETransform, last: UInt8) {
        let start = reader.position
        let last = try reader.readUInt8("transform last-substruc")
        guard last == 0 || last == 3 else {
            throw IKEDecodeError(.invalidSubstructure, offset: start, context: "transform last-substruc \(last)")
        }
        try reader.skip(1)
        let length = Int(try reader.readUInt16("transform length"))
        guard length >= 8 else {
            throw IKEDecodeError(.badSubstructureLength, offset: start + 2, context: "transform length \(length)")
        }
        var body = try reader.subReader(
            count: length - 4, overrunCode: .badSubstructureLength, shortReadCode: .fieldOverrun, context: "transform")
        let type = try body.readUInt8()
        try body.skip(1)
        let id = try body.readUInt16()
        var attributes: [IKETransformAttribute] = []
        while !body.isAtEnd {
            guard attributes.count < IKELimits.maxTransformAttributes else {
                throw body.error(.limitExceeded, "transform attributes")
            }
            attributes.append(try IKETransformAttribute(decoding: &body))
        }
        return (IKETransform(type: type, id: id, attributes: attributes), last)
    }

    /// Encodes the substructure with the given "Last Substruc" octet.
    func encode(into writer: inout IKEByteWriter, isLast: Bool) {
        writer.write(UInt8(isLast ? 0 : 3))
        writer.write(UInt8(0))
        let lengthIndex = writer.count
        writer.write(UInt16(0))
        writer.write(type)
        writer.write(UInt8(0))
        writer.write(id)
        for attribute in attributes { attribute.encode(into: &writer) }
        writer.patchField16(writer.count - lengthIndex + 2, at: lengthIndex, "transform length")
    }
}
