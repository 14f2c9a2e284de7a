// RFC 7296 §3 (§3.1 header, §3.2 chain, §3.14 SK) and RFC 7383 §2.5 (SKF): a whole IKEv2 message.

/// An IKEv2 message: header and outer payload chain. For protected messages the chain ends with an
/// SK (or SKF) payload whose contents stay opaque here; after decryption, `decodeInnerPayloads`
/// decodes the plaintext.
///
/// Decoding never traps and never reads outside the buffer; `truncated` means the buffer is shorter
/// than the header or than the header's Length, every other code means malformed input. A UDP/4500
/// datagram must have its 4-octet non-ESP marker removed first (RFC 3948 §2.2).
public struct IKEMessage: Hashable, Sendable {
    public var header: IKEHeader
    public var payloads: [IKEPayload]

    public init(header: IKEHeader, payloads: [IKEPayload]) {
        self.header = header
        self.payloads = payloads
    }

    public init(decoding bytes: [UInt8]) throws(IKEDecodeError) {
        var reader = IKEByteReader(bytes)
        try self.init(decoding: bytes, header: try IKEHeader(decoding: &reader))
    }

    /// Decodes the payloads of `bytes` whose header the caller has already decoded (the
    /// endpoint reads it once to route the datagram; nobody reads it again).
    public init(decoding bytes: [UInt8], header: IKEHeader) throws(IKEDecodeError) {
        guard header.majorVersion <= IKEHeader.majorVersion2 else {
            throw IKEDecodeError(.invalidMajorVersion, offset: 17, context: "major version \(header.majorVersion)")
        }
        guard header.majorVersion == IKEHeader.majorVersion2 else {
            throw IKEDecodeError(.obsoleteMajorVersion, offset: 17, context: "major version \(header.majorVersion)")
        }
        let length = Int(header.length)
        guard length >= IKEHeader.size else {
            throw IKEDecodeError(.badHeaderLength, offset: 24, context: "header length \(length)")
        }
        guard bytes.count >= length else {
            throw IKEDecodeError(.truncated, offset: bytes.count, context: "message of \(length) octets")
        }
        guard bytes.count == length else {
            throw IKEDecodeError(
                .lengthMismatch, offset: length, context: "\(bytes.count) octets, header length \(length)")
        }
        var reader = IKEByteReader(bytes)
        try reader.skip(IKEHeader.size)
        var chain = try reader.subReader(
            count: length - IKEHeader.size, overrunCode: .truncated, shortReadCode: .badPayloadLength,
            context: "payload chain")
        self.header = header
        self.payloads = try IKEPayloadChain.decode(&chain, first: header.nextPayload, isInner: false)
    }

    /// Encodes the message. The header's Next Payload and Length are computed from the payloads.
    public func encode(into writer: inout IKEByteWriter) throws(IKEEncodeError) {
        let start = writer.count
        header.encode(into: &writer)
        let first = IKEPayloadChain.encode(payloads, into: &writer, isInner: false)
        writer.patch(first.rawValue, at: start + 16)
        writer.patchField32(writer.count - start, at: start + 24, "message length")
        if let problem = writer.problem { throw IKEEncodeError(context: problem) }
    }

    /// The encoded message.
    public func encoded() throws(IKEEncodeError) -> [UInt8] {
        var writer = IKEByteWriter()
        try encode(into: &writer)
        return writer.bytes
    }

    /// Decodes the inner payload chain of a decrypted SK payload (padding and Pad Length already
    /// removed), starting with `firstPayload` (the SK payload's Next Payload). Offsets in errors are
    /// relative to `plaintext`.
    public static func decodeInnerPayloads(_ plaintext: [UInt8], firstPayload: IKEPayloadType)
        throws(IKEDecodeError) -> [IKEPayload]
    {
        var reader = IKEByteReader(plaintext)
        var chain = try reader.subReader(
            count: plaintext.count, overrunCode: .badPayloadLength, shortReadCode: .badPayloadLength,
            context: "inner payload chain")
        return try IKEPayloadChain.decode(&chain, first: firstPayload, isInner: true)
    }

    /// Encodes an inner payload chain (to be padded and encrypted into an SK payload); returns the
    /// type of its first payload, the SK payload's Next Payload.
    public static func encodeInnerPayloads(_ payloads: [IKEPayload])
        throws(IKEEncodeError) -> (firstPayload: IKEPayloadType, bytes: [UInt8])
    {
        var writer = IKEByteWriter()
        let first = IKEPayloadChain.encode(payloads, into: &writer, isInner: true)
        if let problem = writer.problem { throw IKEEncodeError(context: problem) }
        return (first, writer.bytes)
    }

    /// RFC 7296 §2.5: the type of the first unknown payload with the critical bit set, if any; the
    /// engine answers UNSUPPORTED_CRITICAL_PAYLOAD carrying this octet.
    public var unsupportedCriticalPayload: UInt8? { IKEPayload.firstUnsupportedCritical(in: payloads) }

    /// The SK payload, if the message is protected.
    public var encryptedPayload: IKEEncrypted? {
        for case .encrypted(let sk) in payloads { return sk }
        return nil
    }

    /// The SKF payload, if the message is a fragment.
    public var encryptedFragment: IKEEncryptedFragment? {
        for case .encryptedFragment(let skf) in payloads { return skf }
        return nil
    }

    /// All Notify payloads of the outer chain.
    public var notifies: [IKENotify] {
        payloads.compactMap { if case .notify(let n) = $0 { n } else { nil } }
    }
}
