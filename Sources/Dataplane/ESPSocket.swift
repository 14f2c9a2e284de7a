import DataplaneContract
import Glibc
import System
import IKEv2

// RFC 3948 §2: ESP in UDP shares port 4500 with IKE; the first four octets tell them apart.

/// The UDP/4500 socket the data plane sends ESP from and receives it on.
///
/// Ownership (see docs/dataplane.md): the daemon opens and binds its IKE sockets. To give the data
/// plane the batch-receive path, it passes a dup(2) of its 4500 descriptor to `init(adopting:)`;
/// the data plane owns that duplicate and closes it, the daemon keeps and closes its own. Both
/// refer to one socket, so exactly one of them may read it: while a data plane is attached the
/// daemon stops polling 4500 for reading, and the data plane hands it every non-ESP-marker datagram
/// through `UserspaceDataplane.ikeHandler`. Sending from both descriptors is fine (each send is
/// one datagram). Tests and the benchmark, which run no daemon, bind their own with `init(binding:)`.
public final class ESPSocket: Sendable {
    public let local: IKEEndpoint
    let descriptor: FileDescriptor

    /// Opens a nonblocking UDP socket bound to `local` (normally port 4500).
    public init(binding local: IKEEndpoint) throws(DataplaneError) {
        guard let address = SocketAddress(local) else {
            throw DataplaneError(.unsupportedSA, "cannot bind \(local): not an IPv4 or IPv6 address")
        }
        let family = local.isIPv6 ? AF_INET6 : AF_INET
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let owned: FileDescriptor
        do throws(Errno) { owned = try FileDescriptor.socket(family, type, Int32(IPPROTO_UDP)) } catch {
            throw DataplaneError(.system, "socket() for \(local) failed", errno: error.rawValue)
        }
        let fd = owned.rawValue
        if local.isIPv6 {
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        Self.enlargeBuffers(fd)
        var bindAddress = address
        let bound = withUnsafePointer(to: &bindAddress.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                Syscall.retrying { bind(fd, sa, address.length) }
            }
        }
        if case .failure(let e) = bound {
            let code: DataplaneError.Code = (e.rawValue == EACCES || e.rawValue == EPERM) ? .permissionDenied : .system
            throw DataplaneError(code, "cannot bind UDP \(local) (address not configured, or port in use?)", errno: e.rawValue)
        }
        self.local = local
        self.descriptor = owned
    }

    /// Takes ownership of `descriptor` (a dup(2) of the daemon's 4500 socket): it is made
    /// nonblocking here and closed when the data plane is done with it.
    public init(adopting owned: FileDescriptor, local: IKEEndpoint) throws(DataplaneError) {
        if case .failure(let e) = owned.setNonBlocking() {
            throw DataplaneError(.system, "fcntl(O_NONBLOCK) on the adopted 4500 descriptor failed", errno: e.rawValue)
        }
        Self.enlargeBuffers(owned.rawValue)
        self.local = local
        self.descriptor = owned
    }

    /// Bigger socket buffers absorb the bursts a batch produces (best effort: capped by
    /// net.core.{r,w}mem_max unless we are allowed the FORCE variants).
    private static func enlargeBuffers(_ fd: Int32) {
        var size: Int32 = 4 << 20
        let length = socklen_t(MemoryLayout<Int32>.size)
        for (force, plain) in [(SO_RCVBUFFORCE, SO_RCVBUF), (SO_SNDBUFFORCE, SO_SNDBUF)] {
            if setsockopt(fd, SOL_SOCKET, force, &size, length) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, plain, &size, length)
            }
        }
    }
}
