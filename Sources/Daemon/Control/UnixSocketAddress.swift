import Glibc

/// A filesystem Unix socket address (`sockaddr_un`), checked for length up front so a path too
/// long for the kernel is an error that names it, not a silently truncated bind.
public struct UnixSocketAddress {
    private var storage = sockaddr_un()

    public init(path: String) throws(DaemonError) {
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
            throw DaemonError(.configuration, "control socket path '\(path)' is empty or longer than \(capacity - 1) bytes")
        }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
    }

    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
