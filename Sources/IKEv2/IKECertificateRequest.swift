// RFC 7296 §3.7: the Certificate Request payload.

/// CERTREQ payload body: encoding and Certification Authority data (for X.509, concatenated
/// 20-octet SHA-1 hashes of trusted CAs' public keys).
public struct IKECertificateRequest: Hashable, Sendable {
    public static let caHashLength = 20

    public var encoding: IKECertificateEncoding
    public var authorityData: [UInt8]

    public init(encoding: IKECertificateEncoding, authorityData: [UInt8]) {
        self.encoding = encoding
        self.authorityData = authorityData
    }

    /// The CA key hashes, when the data is a whole number of 20-octet hashes; nil otherwise.
    public var caKeyHashes: [[UInt8]]? {
        guard authorityData.count % Self.caHashLength == 0 else { return nil }
        return stride(from: 0, to: authorityData.count, by: Self.caHashLength).map {
            Array(authorityData[$0..<($0 + Self.caHashLength)])
        }
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        encoding = IKECertificateEncoding(rawValue: try reader.readUInt8("certificate encoding"))
        authorityData = reader.readRemaining()
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.write(encoding.rawValue)
        writer.write(authorityData)
    }
}
