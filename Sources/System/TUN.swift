import Glibc

// Linux TUN (Documentation/networking/tuntap.rst): open /dev/net/tun, then TUNSETIFF with a
// struct ifreq naming the interface and its flags; TUNSETPERSIST keeps the device after the
// descriptor closes. The constants are the kernel's UAPI values (linux/if_tun.h, linux/if.h),
// written here because the Swift Glibc module does not import them.

/// The program's one TUNSETIFF: opens a layer-3 TUN interface (no packet-information prefix).
public enum TUN {
    /// Which step failed, and why.
    public struct Failure: Error, Sendable {
        public enum Step: Sendable { case open, setInterface, persist }
        public var step: Step
        public var errno: Errno
    }

    /// TUNSETIFF = _IOW('T', 202, int).
    static let setInterface: UInt = 0x4004_54CA
    /// TUNSETPERSIST = _IOW('T', 203, int).
    static let setPersist: UInt = 0x4004_54CB
    static let flagTUN: Int16 = 0x0001
    static let flagNoPacketInformation: Int16 = 0x1000
    /// IFF_VNET_HDR: a struct virtio_net_hdr before every packet, both ways.
    static let flagVirtioHeader: Int16 = 0x4000
    /// TUNSETOFFLOAD = _IOW('T', 208, unsigned int), with TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6.
    static let setOffload: UInt = 0x4004_54D0
    static let offloadFlags: Int32 = 0x01 | 0x02 | 0x04
    /// struct ifreq: 16 bytes of name, then a 24-byte union whose first field is ifr_flags.
    static let interfaceRequestSize = 40
    /// IFNAMSIZ: 15 bytes of name and a NUL.
    public static let interfaceNameSize = 16

    /// Creates (or attaches to an existing) TUN interface called `name` (1-15 bytes; the caller
    /// checks the name). With `virtioHeader` every read and write carries a struct
    /// virtio_net_hdr (IFF_VNET_HDR) and the kernel is asked for TSO and checksum offload
    /// (TUNSETOFFLOAD; an older kernel without TSO for TUN still honours the header). With
    /// `persistent` the device outlives the descriptor (TUNSETPERSIST), like `ip tuntap add`.
    public static func open(name: String, nonBlocking: Bool = true, virtioHeader: Bool = false,
                            persistent: Bool = false) throws(Failure) -> FileDescriptor {
        let descriptor: FileDescriptor
        do throws(Errno) {
            descriptor = try FileDescriptor.open("/dev/net/tun", O_RDWR | (nonBlocking ? O_NONBLOCK : 0))
        } catch {
            throw Failure(step: .open, errno: error)
        }
        let fd = descriptor.rawValue
        var request = [UInt8](repeating: 0, count: interfaceRequestSize)
        let bytes = Array(name.utf8.prefix(interfaceNameSize - 1))
        request.replaceSubrange(0..<bytes.count, with: bytes)
        let flags = flagTUN | flagNoPacketInformation | (virtioHeader ? flagVirtioHeader : 0)
        withUnsafeBytes(of: flags.littleEndian) { request.replaceSubrange(16..<18, with: $0) }
        let result: Result<Int32, Errno> = request.withUnsafeMutableBytes { raw in
            guard let pointer = raw.baseAddress else { return .failure(Errno.invalidArgument) }
            return Syscall.retrying { ioctl(fd, setInterface, pointer) }
        }
        if case .failure(let e) = result { throw Failure(step: .setInterface, errno: e) }
        if virtioHeader {
            _ = Syscall.retrying { ioctl(fd, setOffload, offloadFlags) }
        }
        if persistent, case .failure(let e) = Syscall.retrying({ ioctl(fd, setPersist, Int32(1)) }) {
            throw Failure(step: .persist, errno: e)
        }
        return descriptor
    }
}
