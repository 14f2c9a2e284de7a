// RFC 7296 §3.13.1: one traffic selector (TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE; others kept opaque).

/// A traffic selector: an address range with IP protocol and port range. Port range 0...65535 means
/// any port; start 65535 / end 0 is OPAQUE (RFC 7296 §3.13.1). IP protocol 0 means any.
public enum IKETrafficSelector: Hashable, Sendable {
    case ipv4(ipProtocol: UInt8, startPort: UInt16, endPort: UInt16, start: IKEIPv4Address, end: IKEIPv4Address)
    case ipv6(ipProtocol: UInt8, startPort: UInt16, endPort: UInt16, start: IKEIPv6Address, end: IKEIPv6Address)
    /// An unknown TS type (e.g. TS_SECLABEL, RFC 9478): the octet after the type and the bytes after the
    /// selector length, verbatim.
    case unknown(type: UInt8, secondOctet: UInt8, body: [UInt8])

    public static let ipv4AddrRange: UInt8 = 7
    public static let ipv6AddrRange: UInt8 = 8

    /// Every IPv4 address, protocol and port.
    public static var anyIPv4: IKETrafficSelector {
        .ipv4(ipProtocol: 0, startPort: 0, endPort: 65535, start: IKEIPv4Address(0), end: IKEIPv4Address(UInt32.max))
    }
    /// Every IPv6 address, protocol and port.
    public static var anyIPv6: IKETrafficSelector {
        .ipv6(
            ipProtocol: 0, startPort: 0, endPort: 65535, start: IKEIPv6Address(high: 0, low: 0),
            end: IKEIPv6Address(high: .max, low: .max))
    }

    public var tsType: UInt8 {
        switch self {
        case .ipv4: Self.ipv4AddrRange
        case .ipv6: Self.ipv6AddrRange
        case .unknown(let type, _, _): type
        }
    }

    public init(decoding reader: inout IKEByteReader) throws(IKEDecodeError) {
        let start = reader.position
        let type = try reader.readUInt8("TS type")
        let second = try reader.readUInt8("TS IP protocol")
        let length = Int(try reader.readUInt16("TS selector length"))
        let expected: Int? = switch type {
        case Self.ipv4AddrRange: 16
        case Self.ipv6AddrRange: 40
        default: nil
        }
        if let expected, length != expected {
            throw IKEDecodeError(.badSelectorLength, offset: start + 2, context: "TS type \(type) length \(length)")
        }
        guard length >= 4 else {
            throw IKEDecodeError(.badSelectorLength, offset: start + 2, context: "TS length \(length)")
        }
        var body = try reader.subReader(
            count: length - 4, overrunCode: .badSubstructureLength, shortReadCode: .fieldOverrun,
            context: "traffic selector")
        switch type {
        case Self.ipv4AddrRange, Self.ipv6AddrRange:
            let startPort = try body.readUInt16()
            let endPort = try body.readUInt16()
            let size = type == Self.ipv4AddrRange ? 4 : 16
            let a = try body.readBytes(size)
            let b = try body.readBytes(size)
            if size == 4, let s = IKEIPv4Address(bytes: a), let e = IKEIPv4Address(bytes: b) {
                self = .ipv4(ipProtocol: second, startPort: startPort, endPort: endPort, start: s, end: e)
            } else if let s = IKEIPv6Address(bytes: a), let e = IKEIPv6Address(bytes: b) {
                self = .ipv6(ipProtocol: second, startPort: startPort, endPort: endPort, start: s, end: e)
            } else {
                throw IKEDecodeError(.badSelectorLength, offset: start, context: "TS addresses")
            }
        default:
            self = .unknown(type: type, secondOctet: second, body: body.readRemaining())
        }
    }

    public func encode(into writer: inout IKEByteWriter) {
        switch self {
        case .ipv4(let proto, let sp, let ep, let s, let e):
            writer.write(Self.ipv4AddrRange)
            writer.write(proto)
            writer.write(UInt16(16))
            writer.write(sp)
            writer.write(ep)
            writer.write(s.bytes)
            writer.write(e.bytes)
        case .ipv6(let proto, let sp, let ep, let s, let e):
            writer.write(Self.ipv6AddrRange)
            writer.write(proto)
            writer.write(UInt16(40))
            writer.write(sp)
            writer.write(ep)
            writer.write(s.bytes)
            writer.write(e.bytes)
        case .unknown(let type, let second, let body):
            writer.write(type)
            writer.write(second)
            writer.writeField16(body.count + 4, "TS selector length")
            writer.write(body)
        }
    }
}
