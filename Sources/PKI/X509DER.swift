import ViaductCrypto
import CryptoCore

/// A minimal DER reader/writer (X.690 §8.1: tag, definite length, value) for the few small
/// structures Viaduct handles itself: RFC 7427 AlgorithmIdentifiers in AUTH payloads and the
/// ECDSA-Sig-Value <-> r||s conversion of RFC 4754. Everything else goes through OpenSSL.
/// Pure: no I/O, bounded, throws `malformed` on anything it does not understand.
struct DERReader {
    private(set) var remaining: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { remaining = bytes }
    init(_ bytes: [UInt8]) { remaining = bytes[...] }

    var isEmpty: Bool { remaining.isEmpty }

    /// Reads one TLV. Only single-byte tags and definite lengths up to 3 length octets (DER).
    mutating func read() throws -> (tag: UInt8, value: ArraySlice<UInt8>) {
        guard remaining.count >= 2 else { throw CryptoError(.malformed, "DER: truncated header") }
        let tag = remaining[remaining.startIndex]
        guard tag & 0x1F != 0x1F else { throw CryptoError(.malformed, "DER: multi-byte tag") }
        var idx = remaining.startIndex + 1
        let first = remaining[idx]
        idx += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let octets = Int(first & 0x7F)
            guard (1...3).contains(octets), remaining.endIndex - idx >= octets else {
                throw CryptoError(.malformed, "DER: bad length")
            }
            for _ in 0..<octets {
                length = length << 8 | Int(remaining[idx])
                idx += 1
            }
            guard length >= 0x80 else { throw CryptoError(.malformed, "DER: non-minimal length") }
        }
        guard remaining.endIndex - idx >= length else { throw CryptoError(.malformed, "DER: truncated value") }
        let value = remaining[idx..<(idx + length)]
        remaining = remaining[(idx + length)...]
        return (tag, value)
    }

    /// Reads one TLV and insists on its tag.
    mutating func read(tag expected: UInt8) throws -> ArraySlice<UInt8> {
        let (tag, value) = try read()
        guard tag == expected else {
            throw CryptoError(.malformed, "DER: expected tag 0x\(String(expected, radix: 16)), got 0x\(String(tag, radix: 16))")
        }
        return value
    }

    /// Reads one whole TLV (header included), e.g. a nested AlgorithmIdentifier to compare.
    mutating func readElement() throws -> ArraySlice<UInt8> {
        let before = remaining
        _ = try read()
        return before[before.startIndex..<remaining.startIndex]
    }

    /// Peeks at the next tag without consuming.
    var nextTag: UInt8? { remaining.first }
}

enum DER {
    static let sequence: UInt8 = 0x30
    static let integer: UInt8 = 0x02
    static let oid: UInt8 = 0x06
    static let null: UInt8 = 0x05

    static func encode(tag: UInt8, _ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = value.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out += [0x81, UInt8(n)]
        } else if n <= 0xFFFF {
            out += [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        } else {
            out += [0x83, UInt8(n >> 16), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        }
        return out + value
    }

    /// An unsigned big-endian magnitude as a DER INTEGER (minimal, with a 0x00 when the top bit is set).
    static func unsignedInteger(_ magnitude: ArraySlice<UInt8>) -> [UInt8] {
        var m = Array(magnitude.drop { $0 == 0 })
        if m.isEmpty { m = [0] }
        if m[0] & 0x80 != 0 { m.insert(0, at: 0) }
        return encode(tag: integer, m)
    }

    /// A DER INTEGER's value -> unsigned magnitude left-padded to `size` bytes; throws if negative or too big.
    static func magnitude(_ value: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        guard let first = value.first else { throw CryptoError(.malformed, "DER: empty INTEGER") }
        guard first & 0x80 == 0 else { throw CryptoError(.malformed, "DER: negative INTEGER") }
        let m = Array(value.drop { $0 == 0 })
        guard m.count <= size else { throw CryptoError(.malformed, "DER: INTEGER larger than \(size) bytes") }
        return [UInt8](repeating: 0, count: size - m.count) + m
    }

    /// Small non-negative INTEGER (salt lengths, trailer fields).
    static func smallInteger(_ value: ArraySlice<UInt8>) throws -> Int {
        guard !value.isEmpty, value.count <= 4, (value.first ?? 0) & 0x80 == 0 else {
            throw CryptoError(.malformed, "DER: INTEGER out of range")
        }
        return value.reduce(0) { $0 << 8 | Int($1) }
    }
}
