// RFC 7296 §3.9 (Nonce), §3.12 (Vendor ID), §3.16 (EAP): payloads whose body is one opaque field.
// Nonce length (16...256 octets, RFC 7296 §2.10) is a policy the engine checks, not a wire error.

/// Nonce payload body (Ni / Nr).
public struct IKENonce: Hashable, Sendable {
    public var data: [UInt8]
    public init(data: [UInt8]) { self.data = data }
    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) { data = reader.readRemaining() }
    public func encode(into writer: inout IKEByteWriter) { writer.write(data) }
}

/// Vendor ID payload body.
public struct IKEVendorID: Hashable, Sendable {
    public var data: [UInt8]
    public init(data: [UInt8]) { self.data = data }
    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) { data = reader.readRemaining() }
    public func encode(into writer: inout IKEByteWriter) { writer.write(data) }
}

/// EAP payload body: one EAP message (RFC 3748), opaque to the codec.
public struct IKEEAP: Hashable, Sendable {
    public var message: [UInt8]
    public init(message: [UInt8]) { self.message = message }
    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) { message = reader.readRemaining() }
    public func encode(into writer: inout IKEByteWriter) { writer.write(message) }
}
