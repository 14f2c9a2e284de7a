import DataplaneContract
import Glibc
import System

/// One layer-3 TUN interface, the userspace data plane's equivalent of an XFRM interface: the
/// kernel routes a peer's traffic into it, Viaduct reads whole IP packets (no packet-information
/// prefix) and writes decrypted ones back.
///
/// The device is created in the network namespace of the thread that opens it and stays there,
/// whatever thread later reads it. Nonblocking: the data plane polls it. The interface exists as
/// long as the descriptor is open (a non-persistent TUN), so a crashed daemon leaves nothing behind.
/// MTU, addresses and routes are the reconciler's; this type only creates the device.
public final class TUNDevice: Sendable {
    public let name: String
    let descriptor: FileDescriptor
    /// True when every read and write carries a `VirtioNetHeader` (IFF_VNET_HDR) and the kernel
    /// may hand us TCP super-packets and partial checksums (TUNSETOFFLOAD); see GSOSegmenter.
    let offloads: Bool

    /// Creates (or attaches to an existing non-persistent) TUN interface called `name`.
    ///
    /// With `offloads` (the default) the kernel hands the data plane TCP super-packets of up to
    /// 64 KB and takes coalesced ones back, one system call per train instead of per packet; the
    /// interface then advertises TSO and checksum offload (`ethtool -k`). Without, one packet per
    /// read and write.
    public init(name: String, offloads: Bool = true) throws(DataplaneError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < TUN.interfaceNameSize, !bytes.contains(0), !bytes.contains(UInt8(ascii: "/")),
              !bytes.contains(UInt8(ascii: " ")) else {
            throw DataplaneError(.invalidInterfaceName, "interface name '\(name)' must be 1-15 bytes without '/', space or NUL")
        }
        do throws(TUN.Failure) {
            descriptor = try TUN.open(name: name, virtioHeader: offloads)
        } catch {
            switch error.step {
            case .open:
                throw DataplaneError(nil, "cannot open /dev/net/tun for '\(name)' (needs CAP_NET_ADMIN and the tun module)", error.errno)
            case .setInterface, .persist:
                throw DataplaneError(nil, "TUNSETIFF '\(name)' failed (a non-TUN interface with this name, or no CAP_NET_ADMIN?)", error.errno)
            }
        }
        self.name = name
        self.offloads = offloads
    }

    /// Reads one packet (with offloads: its virtio header, then the packet) into `buffer`; its length, 0 when nothing is queued, or the errno.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        switch descriptor.read(into: buffer) {
        case .success(let n): return .success(n)
        case .failure(let e) where e.isWouldBlock: return .success(0)
        case .failure(let e): return .failure(e)
        }
    }

    /// Writes one whole IP packet, preceded by its virtio header with offloads (the kernel takes it or drops it; a TUN write does not block).
    func write(_ packet: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        descriptor.write(packet)
    }

    /// Writes one packet gathered from `count` pieces (writev(2)): a coalesced train's virtio and
    /// IP/TCP headers, then its segments' payloads where decryption left them, with no copy.
    func write(vectors: UnsafePointer<iovec>, count: Int) -> Result<Int, Errno> {
        let fd = descriptor.rawValue
        return Syscall.retrying { Glibc.writev(fd, vectors, Int32(count)) }
    }
}
