// RFC 7296 §3.13: the Traffic Selector payloads (TSi, TSr).

/// TSi/TSr payload body: a list of traffic selectors.
public struct IKETrafficSelectors: Hashable, Sendable {
    public var selectors: [IKETrafficSelector]

    public init(_ selectors: [IKETrafficSelector]) { self.selectors = selectors }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        let start = reader.position
        let count = Int(try reader.readUInt8("number of TSs"))
        try reader.skip(3, "TS reserved")
        guard count <= IKELimits.maxTrafficSelectors else { throw reader.error(.limitExceeded, "traffic selectors") }
        var selectors: [IKETrafficSelector] = []
        for _ in 0..<count {
            guard !reader.isAtEnd else {
                throw IKEDecodeError(.countMismatch, offset: start, context: "TS payload announces \(count) selectors")
            }
            selectors.append(try IKETrafficSelector(decoding: &reader))
        }
        guard reader.isAtEnd else {
            throw IKEDecodeError(.countMismatch, offset: reader.position, context: "data after \(count) selectors")
        }
        self.selectors = selectors
    }

    public func encode(into writer: inout IKEByteWriter) {
        writer.writeField8(selectors.count, "number of TSs")
        writer.writeZeros(3)
        for selector in selectors { selector.encode(into: &writer) }
    }
}
