import Glibc
import IKEv2

extension IKEEndpoint {
    /// The address alone in its canonical text form (inet_ntop: `2001:db8::1`, not the
    /// uncompressed groups), as operators write it in topologies and as `ip addr` prints it.
    public var addressText: String {
        let family = address.count == 16 ? AF_INET6 : AF_INET
        guard address.count == 4 || address.count == 16 else { return "?" }
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = address.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in
                inet_ntop(family, src.baseAddress, dst.baseAddress, socklen_t(dst.count)) != nil
            }
        }
        guard ok else { return "?" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
