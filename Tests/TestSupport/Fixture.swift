import KernelModel
import NetTypes
import Topology

/// Addresses and prefixes from literals; test targets extend it with their own fixed values.
public enum Fixture {
    public static func ip(_ text: String) -> IPAddress {
        guard let a = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
        return a
    }

    public static func prefix(_ text: String) -> IPPrefix {
        guard case .success(let p) = IPPrefix.parse(text) else { preconditionFailure("bad test prefix \(text)") }
        return p
    }

    /// The iproute2 captures' key: bytes 0x01...0x24 (a 32-byte AES key + 4-byte salt).
    public static let gcmKey: [UInt8] = (1...36).map { UInt8($0) }
    public static let aead = XfrmAlgorithms.aead(name: "rfc4106(gcm(aes))", key: gcmKey, icvBits: 128)
    public static let a = ip("192.0.2.1")
    public static let b = ip("192.0.2.2")
}
