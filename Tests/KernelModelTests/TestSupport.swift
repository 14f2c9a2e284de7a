import KernelModel
import NetTypes
import Topology

/// Hex helpers and fixed values shared by the codec tests.
enum Hex {
    static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8)
        if chars.count % 2 == 1 { chars.append(UInt8(ascii: "0")) }
        var i = 0
        while i < chars.count {
            out.append(UInt8(nibble(chars[i]) << 4 | nibble(chars[i + 1])))
            i += 2
        }
        return out
    }

    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return 0
        }
    }
}

/// A small deterministic generator (SplitMix64) so fuzz cases are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

enum Fixture {
    static func ip(_ text: String) -> IPAddress {
        guard let a = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
        return a
    }

    static func prefix(_ text: String) -> IPPrefix {
        guard case .success(let p) = IPPrefix.parse(text) else { preconditionFailure("bad test prefix \(text)") }
        return p
    }

    /// The capture's key: bytes 0x01...0x24 (a 32-byte AES key + 4-byte salt).
    static let gcmKey: [UInt8] = (1...36).map { UInt8($0) }
    static let aead = XfrmAlgorithms.aead(name: "rfc4106(gcm(aes))", key: gcmKey, icvBits: 128)
    static let a = ip("192.0.2.1")
    static let b = ip("192.0.2.2")

    /// The sequence number and port id of a captured request, read from its header, so the encoder is asked
    /// to reproduce exactly that message.
    static func header(_ hex: String) -> (seq: UInt32, pid: UInt32) {
        let b = Hex.bytes(hex)
        let seq = UInt32(b[8]) | UInt32(b[9]) << 8 | UInt32(b[10]) << 16 | UInt32(b[11]) << 24
        let pid = UInt32(b[12]) | UInt32(b[13]) << 8 | UInt32(b[14]) << 16 | UInt32(b[15]) << 24
        return (seq, pid)
    }
}
