// struct virtio_net_hdr (linux/virtio_net.h; Virtio 1.2 §5.1.6): the 10 bytes a TUN opened with
// IFF_VNET_HDR puts in front of every packet, in the host's byte order (little-endian here; a TUN
// is only big-endian after TUNSETVNETBE, which Viaduct never sets).

/// What the kernel tells us about a packet it read from a TUN with offloads (a TCP "super-packet"
/// still to be segmented, a checksum still to be completed), and what we tell it about one we
/// write (a coalesced TCP segment train, or a plain packet).
struct VirtioNetHeader: Hashable, Sendable {
    static let size = 10

    /// VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum at `checksumStart + checksumOffset` holds only
    /// the pseudo-header sum; the sum over `checksumStart...` is still to be added.
    static let needsChecksum: UInt8 = 1

    enum GSOType: UInt8, Sendable {
        case none = 0
        case tcpIPv4 = 1
        case udp = 3
        case tcpIPv6 = 4
        case udpL4 = 5
    }
    /// VIRTIO_NET_HDR_GSO_ECN, or-ed into the type: the super-packet carries CWR.
    static let gsoECN: UInt8 = 0x80

    var flags: UInt8 = 0
    var gsoType: UInt8 = GSOType.none.rawValue
    var headerLength: UInt16 = 0
    var gsoSize: UInt16 = 0
    var checksumStart: UInt16 = 0
    var checksumOffset: UInt16 = 0

    init() {}

    init(flags: UInt8, gsoType: UInt8, headerLength: UInt16, gsoSize: UInt16, checksumStart: UInt16, checksumOffset: UInt16) {
        self.flags = flags
        self.gsoType = gsoType
        self.headerLength = headerLength
        self.gsoSize = gsoSize
        self.checksumStart = checksumStart
        self.checksumOffset = checksumOffset
    }

    /// The header at the start of `bytes`, or nil when fewer than 10 bytes are there.
    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size, let base = bytes.baseAddress else { return nil }
        flags = bytes[0]
        gsoType = bytes[1]
        headerLength = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        gsoSize = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        checksumStart = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        checksumOffset = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
    }

    /// Writes the 10 bytes at the start of `bytes` (which must hold them).
    func encode(into bytes: UnsafeMutableRawBufferPointer) {
        guard bytes.count >= Self.size, let base = bytes.baseAddress else { return }
        bytes[0] = flags
        bytes[1] = gsoType
        base.storeBytes(of: headerLength.littleEndian, toByteOffset: 2, as: UInt16.self)
        base.storeBytes(of: gsoSize.littleEndian, toByteOffset: 4, as: UInt16.self)
        base.storeBytes(of: checksumStart.littleEndian, toByteOffset: 6, as: UInt16.self)
        base.storeBytes(of: checksumOffset.littleEndian, toByteOffset: 8, as: UInt16.self)
    }
}
