// RFC 7383 §2.5: the Encrypted Fragment payload (SKF).

/// SKF payload body: fragment number, total fragments, then IV + ciphertext + ICV (opaque here).
/// `firstPayload` is the Next Payload of the SKF header: the first inner payload type in fragment 1,
/// zero in the others.
public struct IKEEncryptedFragment: Hashable, Sendable {
    public var firstPayload: IKEPayloadType
    public var fragmentNumber: UInt16
    public var totalFragments: UInt16
    public var data: [UInt8]

    public init(firstPayload: IKEPayloadType, fragmentNumber: UInt16, totalFragments: UInt16, data: [UInt8]) {
        self.firstPayload = firstPayload
        self.fragmentNumber = fragmentNumber
        self.totalFragments = totalFragments
        self.data = data
    }

    public init(firstPayload: IKEPayloadType, decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        let start = reader.position
        self.firstPayload = firstPayload
        fragmentNumber = try reader.readUInt16("SKF fragment number")
        totalFragments = try reader.readUInt16("SKF total fragments")
        guard fragmentNumber >= 1, totalFragments >= 1, fragmentNumber <= totalFragments else {
            throw IKEDecodeError(
                .invalidFragmentNumber, offset: start, context: "SKF fragment \(fragmentNumber) of \(totalFragments)")
        }
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(fragmentNumber)
        writer.write(totalFragments)
        writer.write(data)
    }
}
