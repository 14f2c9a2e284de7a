// RFC 7296 §3.14: the Encrypted and Authenticated payload (SK), opaque at this layer.

/// SK payload body: IV, ciphertext (inner payloads + padding + pad length) and ICV, not yet split
/// (their sizes depend on the negotiated algorithms). `firstPayload` is the SK header's Next Payload:
/// the type of the first inner payload. The SK payload ends the outer chain (RFC 7296 §3.14).
public struct IKEEncrypted: Hashable, Sendable {
    public var firstPayload: IKEPayloadType
    public var data: [UInt8]

    public init(firstPayload: IKEPayloadType, data: [UInt8]) {
        self.firstPayload = firstPayload
        self.data = data
    }

    public init(firstPayload: IKEPayloadType, decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        self.firstPayload = firstPayload
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) { writer.write(data) }
}
