// RFC 7383 §2.5: SKF fragments are recognisable from the IKE header alone (Next Payload 53).

/// Debug records for IKE fragments in and out, read from the header without decrypting, so an
/// operator (and the interop scenarios) can see that a large IKE_AUTH went fragmented.
enum IKEFragmentLog {
    static let skf: UInt8 = 53

    /// (fragment number, total) when `bytes` is an SKF message, nil otherwise.
    static func fragment(_ bytes: [UInt8]) -> (number: Int, total: Int)? {
        // IKE header (28) + generic payload header (4) + Fragment Number + Total Fragments.
        guard bytes.count >= 36, bytes[16] == skf else { return nil }
        return (Int(bytes[32]) << 8 | Int(bytes[33]), Int(bytes[34]) << 8 | Int(bytes[35]))
    }

    static func sent(_ d: IKEDatagram) -> IKELogRecord? {
        guard let f = fragment(d.bytes) else { return nil }
        return IKELogRecord(.debug, "IKE fragment sent", [
            "to": "\(d.destination)", "fragment": "\(f.number)/\(f.total)", "bytes": "\(d.bytes.count)",
        ])
    }

    static func received(_ d: IKEDatagram) -> IKELogRecord? {
        guard let f = fragment(d.bytes) else { return nil }
        return IKELogRecord(.debug, "IKE fragment received", [
            "from": "\(d.source)", "fragment": "\(f.number)/\(f.total)", "bytes": "\(d.bytes.count)",
        ])
    }
}
