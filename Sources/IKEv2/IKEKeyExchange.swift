// RFC 7296 §3.4: the Key Exchange payload.
import CryptoCore

/// KE payload body: the key exchange (Diffie-Hellman) group number and the public value.
public struct IKEKeyExchange: Hashable, Sendable {
    /// Group number, raw (unknown groups must be answerable with INVALID_KE_PAYLOAD).
    public var group: UInt16
    public var data: [UInt8]

    public init(group: UInt16, data: [UInt8]) {
        self.group = group
        self.data = data
    }

    public init(group: KeyExchangeGroup, data: [UInt8]) {
        self.init(group: group.transformID, data: data)
    }

    /// The group as a CryptoCore enum, when known.
    public var keyExchangeGroup: KeyExchangeGroup? { KeyExchangeGroup(rawValue: group) }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        group = try reader.readUInt16("KE group")
        try reader.skip(2, "KE reserved")
        data = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(group)
        writer.write(UInt16(0))
        writer.write(data)
    }
}
