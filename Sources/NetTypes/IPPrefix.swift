/// An IP network in CIDR form. Host bits must be zero: `198.18.1.5/24` is rejected with a
/// suggestion rather than silently masked, because it is usually a typo for an address.
public struct IPPrefix: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let address: IPAddress
    public let length: Int

    public enum ParseError: Error, Hashable, Sendable {
        case syntax
        case length(max: Int)
        case hostBits(suggestion: IPPrefix)
    }

    public init(network address: IPAddress, length: Int) {
        self.address = IPPrefix.mask(address, length)
        self.length = length
    }

    public static func parse(_ text: String) -> Result<IPPrefix, ParseError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let addr = IPAddress(String(parts[0])) else { return .failure(.syntax) }
        let lenText = parts[1]
        guard !lenText.isEmpty, lenText.count <= 3, lenText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let len = Int(lenText) else { return .failure(.syntax) }
        guard len <= addr.family.bitCount else { return .failure(.length(max: addr.family.bitCount)) }
        let p = IPPrefix(network: addr, length: len)
        guard p.address == addr else { return .failure(.hostBits(suggestion: p)) }
        return .success(p)
    }

    public var family: IPAddress.Family { address.family }
    public var description: String { "\(address)/\(length)" }

    static func mask(_ a: IPAddress, _ len: Int) -> IPAddress {
        switch a {
        case .v4(let v):
            let m: UInt32 = len == 0 ? 0 : ~UInt32(0) << (32 - len)
            return .v4(v & m)
        case .v6(let hi, let lo):
            let mh: UInt64 = len >= 64 ? ~0 : (len == 0 ? 0 : ~UInt64(0) << (64 - len))
            let ml: UInt64 = len <= 64 ? 0 : (len == 128 ? ~0 : ~UInt64(0) << (128 - len))
            return .v6(hi & mh, lo & ml)
        }
    }

    public func contains(_ a: IPAddress) -> Bool {
        a.family == family && IPPrefix.mask(a, length) == address
    }

    public func overlaps(_ other: IPPrefix) -> Bool {
        guard family == other.family else { return false }
        let l = min(length, other.length)
        return IPPrefix.mask(address, l) == IPPrefix.mask(other.address, l)
    }

    /// How many sub-prefixes of `newLength` fit, saturating at Int.max for huge IPv6 ranges.
    public func subnetCount(length newLength: Int) -> Int {
        guard newLength >= length else { return 0 }
        let bits = newLength - length
        return bits >= 62 ? Int.max : 1 << bits
    }

    /// The `index`-th sub-prefix of `newLength` (0-based); nil when it does not fit.
    public func subnet(_ index: Int, length newLength: Int) -> IPPrefix? {
        guard newLength >= length, newLength <= family.bitCount, index >= 0,
              index < subnetCount(length: newLength) else { return nil }
        return IPPrefix(network: address.adding(UInt64(index), shiftedBy: family.bitCount - newLength), length: newLength)
    }

    /// The address `offset` hosts into this prefix (offset 0 is the network address itself).
    public func host(_ offset: UInt64) -> IPAddress {
        address.adding(offset, shiftedBy: 0)
    }

    public static func < (a: IPPrefix, b: IPPrefix) -> Bool {
        (a.address, a.length) < (b.address, b.length)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard case .success(let p) = IPPrefix.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid prefix \(text)"))
        }
        self = p
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension IPAddress {
    /// Adds `value << shift` (wrapping within the family's width; callers stay inside a prefix).
    func adding(_ value: UInt64, shiftedBy shift: Int) -> IPAddress {
        switch self {
        case .v4(let v):
            let add = shift >= 32 ? 0 : UInt32(truncatingIfNeeded: value << UInt64(shift))
            return .v4(v &+ add)
        case .v6(let hi, let lo):
            var addHi: UInt64 = 0, addLo: UInt64 = 0
            if shift >= 128 {
            } else if shift >= 64 {
                addHi = value << UInt64(shift - 64)
            } else if shift == 0 {
                addLo = value
            } else {
                addLo = value << UInt64(shift)
                addHi = value >> UInt64(64 - shift)
            }
            let (newLo, carry) = lo.addingReportingOverflow(addLo)
            return .v6(hi &+ addHi &+ (carry ? 1 : 0), newLo)
        }
    }
}
