import Glibc

/// The system resolver (getaddrinfo(3): /etc/hosts, then DNS, as nsswitch.conf says), the one
/// place the program looks a name up. Blocking: the daemon calls it when it starts, on `apply`,
/// and when it opens an IKE SA to a peer known by name (a handful of lookups per re-initiation,
/// answered from /etc/hosts or the local stub resolver's cache in the usual case).
public enum NameResolution {
    /// Why a name did not resolve: getaddrinfo's own words (gai_strerror), or no address of the
    /// family asked for.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The addresses of `name` in `family` (`AF_INET`: 4-byte, `AF_INET6`: 16-byte), in the
    /// resolver's order, duplicates removed.
    public static func addresses(of name: String, ipv6: Bool) -> Result<[[UInt8]], Failure> {
        var hints = addrinfo()
        hints.ai_family = ipv6 ? AF_INET6 : AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(name, nil, &hints, &result)
        guard rc == 0 else {
            let reason = String(cString: gai_strerror(rc))
            return .failure(Failure(description: "cannot resolve \(name): \(reason)"))
        }
        defer { freeaddrinfo(result) }
        var out: [[UInt8]] = []
        var cursor = result
        while let ai = cursor {
            if let sa = ai.pointee.ai_addr {
                var bytes: [UInt8] = []
                if ai.pointee.ai_family == AF_INET {
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        withUnsafeBytes(of: sin.pointee.sin_addr) { bytes = Array($0) }
                    }
                } else if ai.pointee.ai_family == AF_INET6 {
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        withUnsafeBytes(of: sin6.pointee.sin6_addr) { bytes = Array($0) }
                    }
                }
                if !bytes.isEmpty && !out.contains(bytes) { out.append(bytes) }
            }
            cursor = ai.pointee.ai_next
        }
        guard !out.isEmpty else {
            return .failure(Failure(description: "cannot resolve \(name): no \(ipv6 ? "IPv6" : "IPv4") address"))
        }
        return .success(out)
    }
}
