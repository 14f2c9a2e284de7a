// RFC 7296 §3.2: walking and building a chain of payloads linked by Next Payload fields.

/// Decoding and encoding of a payload chain: the outer chain of a message, or the inner chain carried
/// in the plaintext of an SK payload (RFC 7296 §3.14) or of reassembled SKF fragments (RFC 7383 §2.6).
public enum IKEPayloadChain {
    /// Decodes payloads from `reader` starting with type `first` until a Next Payload of zero or an
    /// SK/SKF payload (whose Next Payload names the first inner payload). The chain must fill the reader.
    /// With `isInner`, an SK or SKF payload is an error (`nestedEncryptedPayload`).
    public static func decode(_ reader: inout IKEByteReader, first: IKEPayloadType, isInner: Bool)
        throws(IKEDecodeError) -> [IKEPayload]
    {
        var payloads: [IKEPayload] = []
        var next = first
        while next != .noNextPayload {
            guard payloads.count < IKELimits.maxPayloads else { throw reader.error(.limitExceeded, "payloads") }
            let start = reader.position
            guard reader.remaining >= 4 else {
                throw reader.error(reader.isAtEnd ? .missingPayload : .badPayloadLength, "\(next) payload header")
            }
            if isInner && (next == .encrypted || next == .encryptedFragment) {
                throw reader.error(.nestedEncryptedPayload, "\(next) inside SK")
            }
            let following = IKEPayloadType(rawValue: try reader.readUInt8())
            let flags = try reader.readUInt8()
            let length = Int(try reader.readUInt16())
            guard length >= 4 else {
                throw IKEDecodeError(.badPayloadLength, offset: start + 2, context: "\(next) payload length \(length)")
            }
            var body = try reader.subReader(
                count: length - 4, overrunCode: .badPayloadLength, shortReadCode: .fieldOverrun,
                context: "\(next) payload")
            let payload = try IKEPayload(type: next, critical: flags & 0x80 != 0, following: following, decoding: &body)
            try body.requireAtEnd("\(next) payload")
            payloads.append(payload)
            next = payload.isEncrypted ? .noNextPayload : following
        }
        try reader.requireAtEnd("data after the last payload")
        return payloads
    }

    /// Encodes `payloads` with their generic headers and Next Payload links; returns the type of the
    /// first payload (for the IKE header or the enclosing SK header). Problems (an SK/SKF not last, an
    /// SK/SKF in an inner chain, oversize payloads) are recorded in `writer.problem`.
    @discardableResult
    public static func encode(_ payloads: [IKEPayload], into writer: inout IKEByteWriter, isInner: Bool)
        -> IKEPayloadType
    {
        for (i, payload) in payloads.enumerated() {
            let isLast = i == payloads.count - 1
            let next: IKEPayloadType
            switch payload {
            case .encrypted(let sk):
                next = sk.firstPayload
            case .encryptedFragment(let skf):
                next = skf.firstPayload
            default:
                next = isLast ? .noNextPayload : payloads[i + 1].type
            }
            if payload.isEncrypted {
                if isInner { writer.note("\(payload.type) payload inside SK") }
                if !isLast { writer.note("\(payload.type) payload must be the last payload") }
            }
            writer.write(next.rawValue)
            writer.write(UInt8(payload.isCritical ? 0x80 : 0))
            let lengthIndex = writer.count
            writer.write(UInt16(0))
            payload.encodeBody(into: &writer)
            writer.patchField16(writer.count - lengthIndex + 2, at: lengthIndex, "\(payload.type) payload length")
        }
        return payloads.first?.type ?? .noNextPayload
    }
}
