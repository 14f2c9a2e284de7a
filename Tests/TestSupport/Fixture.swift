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

extension Fixture {
    /// Two managed gateways (a, b) with a bgp tunnel, and an unmanaged cloud endpoint (c) that a
    /// has a static tunnel to; documentation addresses, file names that need not exist. The lab,
    /// status and apply tests plan it for node a or b.
    public static let twoGatewaysAndCloudTopology = """
        version: 1
        pki: { ca: ca.pem }
        gateways:
          a: { address: 192.0.2.1, certificate: c, key: k, asn: 65001, networks: [198.18.1.0/24] }
          b: { address: 198.51.100.1, certificate: c, key: k, asn: 65002, networks: [198.18.2.0/24] }
          c: { address: 203.0.113.9, identity: 203.0.113.9, managed: false }
        tunnels:
          - between: [a, b]
            inside: 169.254.30.0/30
            routing: bgp
          - between: [a, c]
            inside: 169.254.31.0/30
        """
}
