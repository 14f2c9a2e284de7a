import Daemon
import NetTypes
import Topology

extension FloodGenerator {
    /// An IPv4 address, or every address of an IPv4 prefix of /16 or longer (`--source`,
    /// `--impersonate` of `viaduct bench flood`).
    public static func addresses(_ text: String) throws(DaemonError) -> [[UInt8]] {
        if let a = IPAddress(text), a.family == .ipv4 { return [a.bytes] }
        guard case .success(let p) = IPPrefix.parse(text), p.family == .ipv4, p.length >= 16 else {
            throw DaemonError(.configuration, "'\(text)' is not an IPv4 address or a prefix of /16 or longer")
        }
        let base = p.address.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (0..<(UInt32(1) << UInt32(32 - p.length))).map { i in
            let v = base | i
            return [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
    }
}
