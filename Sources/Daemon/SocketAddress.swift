import Glibc
import IKEv2

/// An IPv4 or IPv6 socket address in the kernel's layout, built from and read back into the
/// engine's `IKEEndpoint`. Storage is a `sockaddr_storage`, so one type serves both families.
struct SocketAddress {
    var storage = sockaddr_storage()

    var family: Int32 { Int32(storage.ss_family) }
    var length: socklen_t {
        family == AF_INET6 ? socklen_t(MemoryLayout<sockaddr_in6>.size) : socklen_t(MemoryLayout<sockaddr_in>.size)
    }

    init() {}

    /// Nil when the endpoint's address is neither 4 nor 16 bytes.
    init?(_ endpoint: IKEEndpoint) {
        switch endpoint.address.count {
        case 4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: endpoint.address) }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) }
            }
        case 16:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: endpoint.address) }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) }
            }
        default:
            return nil
        }
    }

    /// The endpoint, or nil for a family other than IPv4/IPv6.
    var endpoint: IKEEndpoint? {
        withUnsafeBytes(of: storage) { raw -> IKEEndpoint? in
            switch Int32(storage.ss_family) {
            case AF_INET:
                let sin = raw.loadUnaligned(as: sockaddr_in.self)
                return IKEEndpoint(address: withUnsafeBytes(of: sin.sin_addr) { Array($0) },
                                   port: UInt16(bigEndian: sin.sin_port))
            case AF_INET6:
                let sin6 = raw.loadUnaligned(as: sockaddr_in6.self)
                return IKEEndpoint(address: withUnsafeBytes(of: sin6.sin6_addr) { Array($0) },
                                   port: UInt16(bigEndian: sin6.sin6_port))
            default:
                return nil
            }
        }
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = self.length
        return withUnsafePointer(to: storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
