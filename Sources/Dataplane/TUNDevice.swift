import Glibc

// Linux TUN (Documentation/networking/tuntap.rst): open /dev/net/tun, then TUNSETIFF with a
// struct ifreq naming the interface and its flags. The constants are the kernel's UAPI values
// (linux/if_tun.h, linux/if.h), written here because the Swift Glibc module does not import them.

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
    let descriptor: OwnedDescriptor
    /// True when every read and write carries a `VirtioNetHeader` (IFF_VNET_HDR) and the kernel
    /// may hand us TCP super-packets and partial checksums (TUNSETOFFLOAD); see GSOSegmenter.
    let offloads: Bool

    /// TUNSETIFF = _IOW('T', 202, int).
    static let setInterface: UInt = 0x4004_54CA
    static let flagTUN: Int16 = 0x0001
    static let flagNoPacketInformation: Int16 = 0x1000
    /// IFF_VNET_HDR: a struct virtio_net_hdr before every packet, both ways.
    static let flagVirtioHeader: Int16 = 0x4000
    /// TUNSETOFFLOAD = _IOW('T', 208, unsigned int), with TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6.
    static let setOffload: UInt = 0x4004_54D0
    static let offloadFlags: Int32 = 0x01 | 0x02 | 0x04
    /// struct ifreq: 16 bytes of name, then a 24-byte union whose first field is ifr_flags.
    static let interfaceRequestSize = 40
    static let interfaceNameSize = 16

    /// Creates (or attaches to an existing non-persistent) TUN interface called `name`.
    ///
    /// With `offloads` (the default) the kernel hands the data plane TCP super-packets of up to
    /// 64 KB and takes coalesced ones back, one system call per train instead of per packet; the
    /// interface then advertises TSO and checksum offload (`ethtool -k`). Without, one packet per
    /// read and write.
    public init(name: String, offloads: Bool = true) throws(DataplaneError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < Self.interfaceNameSize, !bytes.contains(0), !bytes.contains(UInt8(ascii: "/")),
              !bytes.contains(UInt8(ascii: " ")) else {
            throw DataplaneError(.invalidInterfaceName, "interface name '\(name)' must be 1-15 bytes without '/', space or NUL")
        }
        let opened = SystemCall.retrying { open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC) }
        let fd: Int32
        switch opened {
        case .success(let f): fd = f
        case .failure(let e):
            let code: DataplaneError.Code = (e.value == EPERM || e.value == EACCES) ? .permissionDenied : .system
            throw DataplaneError(code, "cannot open /dev/net/tun for '\(name)' (needs CAP_NET_ADMIN and the tun module)", errno: e.value)
        }
        let owned = OwnedDescriptor(taking: fd)
        var request = [UInt8](repeating: 0, count: Self.interfaceRequestSize)
        request.replaceSubrange(0..<bytes.count, with: bytes)
        let flags = Self.flagTUN | Self.flagNoPacketInformation | (offloads ? Self.flagVirtioHeader : 0)
        withUnsafeBytes(of: flags.littleEndian) { request.replaceSubrange(16..<18, with: $0) }
        let result: Result<Int32, SystemErrno> = request.withUnsafeMutableBytes { raw in
            guard let pointer = raw.baseAddress else { return .failure(SystemErrno(EINVAL)) }
            return SystemCall.retrying { ioctl(fd, Self.setInterface, pointer) }
        }
        if case .failure(let e) = result {
            let code: DataplaneError.Code = (e.value == EPERM || e.value == EACCES) ? .permissionDenied : .system
            throw DataplaneError(code, "TUNSETIFF '\(name)' failed (a non-TUN interface with this name, or no CAP_NET_ADMIN?)", errno: e.value)
        }
        if offloads {
            // An older kernel without TSO for TUN still honours the header (no GSO ever arrives).
            _ = SystemCall.retrying { ioctl(fd, Self.setOffload, Self.offloadFlags) }
        }
        self.name = name
        self.descriptor = owned
        self.offloads = offloads
    }

    /// Reads one packet (with offloads: its virtio header, then the packet) into `buffer`; its length, 0 when nothing is queued, or the errno.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, SystemErrno> {
        let fd = descriptor.rawValue
        switch SystemCall.retrying({ Glibc.read(fd, buffer.baseAddress, buffer.count) }) {
        case .success(let n): return .success(n)
        case .failure(let e) where e.wouldBlock: return .success(0)
        case .failure(let e): return .failure(e)
        }
    }

    /// Writes one whole IP packet, preceded by its virtio header with offloads (the kernel takes it or drops it; a TUN write does not block).
    func write(_ packet: UnsafeRawBufferPointer) -> Result<Int, SystemErrno> {
        let fd = descriptor.rawValue
        return SystemCall.retrying { Glibc.write(fd, packet.baseAddress, packet.count) }
    }

    /// Writes one packet gathered from `count` pieces (writev(2)): a coalesced train's virtio and
    /// IP/TCP headers, then its segments' payloads where decryption left them, with no copy.
    func write(vectors: UnsafePointer<iovec>, count: Int) -> Result<Int, SystemErrno> {
        let fd = descriptor.rawValue
        return SystemCall.retrying { Glibc.writev(fd, vectors, Int32(count)) }
    }
}
