import Glibc
import IKEv2

/// A `sockaddr_in` / `sockaddr_in6` in a `sockaddr_storage`, built from and turned back into the
/// IKE engine's `IKEEndpoint`: the one conversion the data plane and the daemon's sockets share.
public struct SocketAddress: Sendable {
    public var storage = sockaddr_storage()
    /// Set by `init?(_:)`; an empty address (to be filled by recvmsg) has 0.
    public var length: socklen_t = 0

    public init() {}

    /// Nil when the endpoint's address is neither 4 nor 16 bytes.
    public init?(_ endpoint: IKEEndpoint) {
        switch endpoint.address.count {
        case 4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: endpoint.address) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case 16:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: endpoint.address) }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        default:
            return nil
        }
    }

    /// The endpoint in a `sockaddr_storage` the kernel filled in, or nil for another family.
    public static func endpoint(_ raw: UnsafeRawPointer) -> IKEEndpoint? {
        let family = raw.loadUnaligned(as: sa_family_t.self)
        if family == sa_family_t(AF_INET) {
            let sin = raw.loadUnaligned(as: sockaddr_in.self)
            let address = withUnsafeBytes(of: sin.sin_addr) { Array($0) }
            return IKEEndpoint(address: address, port: UInt16(bigEndian: sin.sin_port))
        }
        if family == sa_family_t(AF_INET6) {
            let sin6 = raw.loadUnaligned(as: sockaddr_in6.self)
            let address = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
            return IKEEndpoint(address: address, port: UInt16(bigEndian: sin6.sin6_port))
        }
        return nil
    }

    /// The endpoint this address holds (e.g. after recvmsg filled `storage`), or nil for
    /// another family.
    public var endpoint: IKEEndpoint? {
        withUnsafeBytes(of: storage) { raw in raw.baseAddress.flatMap(Self.endpoint) }
    }

    public func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = self.length
        return withUnsafePointer(to: storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
