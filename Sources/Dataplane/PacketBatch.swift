import Glibc

/// A worker's batch of packet buffers and the `mmsghdr`/`iovec`/address arrays that point into
/// them: everything recvmmsg(2)/sendmmsg(2) need, allocated once per worker thread and reused for
/// every batch, so the packet path allocates nothing.
///
/// Slot layout (one per packet, `slotSize` bytes, the way wireguard-go offsets its buffers):
///
///     | headroom (ESP header + IV) | packet ........................ | tailroom (pad, trailer, ICV) |
///
/// Outbound, the TUN read lands at `headroom` and ESP encapsulation grows the packet in place into
/// both ends. Inbound, the datagram lands at 0 and decapsulation leaves the inner packet inside it.
/// Not `Sendable`: it belongs to the one thread that made it.
final class PacketBatch {
    let capacity: Int
    let slotSize: Int
    let headroom: Int
    private let storage: UnsafeMutableRawBufferPointer
    let headers: UnsafeMutablePointer<MultiMessageHeader>
    private let vectors: UnsafeMutablePointer<iovec>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    /// One control-message buffer per header: UDP_SEGMENT out, UDP_GRO in (linux/udp.h).
    private let controls: UnsafeMutableRawPointer
    static let controlSize = 32
    /// SOL_UDP and its options UDP_SEGMENT (a u16 segment size on send) and UDP_GRO (an int on
    /// receive; a socket option to enable it), linux/udp.h.
    static let levelUDP: Int32 = 17
    static let udpSegment: Int32 = 103
    static let udpGRO: Int32 = 104

    /// - Parameters:
    ///   - capacity: packets per batch.
    ///   - headroom: bytes reserved in front of each packet (the ESP header and IV: 16).
    ///   - packetSize: the largest packet a slot holds after the headroom, tailroom included.
    init(capacity: Int, headroom: Int, packetSize: Int) {
        self.capacity = capacity
        self.headroom = headroom
        // Round slots to 64 bytes so every packet starts on its own cache line.
        self.slotSize = (headroom + packetSize + 63) & ~63
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * slotSize, alignment: 64)
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: MultiMessageHeader(header: msghdr(), length: 0), count: capacity)
        vectors = .allocate(capacity: capacity)
        vectors.initialize(repeating: iovec(), count: capacity)
        names = .allocate(capacity: capacity)
        names.initialize(repeating: sockaddr_storage(), count: capacity)
        controls = .allocate(byteCount: capacity * Self.controlSize, alignment: 8)
        controls.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * Self.controlSize)
    }

    deinit {
        storage.deallocate()
        headers.deallocate()
        vectors.deallocate()
        names.deallocate()
        controls.deallocate()
    }

    /// The whole slot `index`.
    func slot(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage[(index * slotSize)..<((index + 1) * slotSize)])
    }

    /// Points every header at its whole slot and its address storage, ready for recvmmsg(2).
    func prepareReceive() {
        for i in 0..<capacity {
            let s = slot(i)
            vectors[i] = iovec(iov_base: s.baseAddress, iov_len: s.count)
            headers[i].header = msghdr()
            headers[i].header.msg_iov = vectors + i
            headers[i].header.msg_iovlen = 1
            headers[i].header.msg_name = UnsafeMutableRawPointer(names + i)
            headers[i].header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            headers[i].header.msg_control = controls + i * Self.controlSize
            headers[i].header.msg_controllen = Self.controlSize
            headers[i].length = 0
        }
    }

    /// The address recvmmsg(2) stored for datagram `index`.
    func sourceAddress(_ index: Int) -> UnsafeRawPointer { UnsafeRawPointer(names + index) }

    /// True when the kernel cut datagram `index` to fit the slot (MSG_TRUNC).
    func truncated(_ index: Int) -> Bool { headers[index].header.msg_flags & Int32(MSG_TRUNC) != 0 }

    /// The segment size of datagram `index` when the kernel coalesced several equal-sized ones
    /// into it (a UDP_GRO control message), else nil.
    func receivedSegmentSize(_ index: Int) -> Int? {
        let header = headers[index].header
        guard header.msg_controllen >= 16 + 4, let control = header.msg_control else { return nil }
        // struct cmsghdr: size_t cmsg_len, int cmsg_level, int cmsg_type, then the data; one
        // message at most (only UDP_GRO is enabled on this socket).
        let level = control.loadUnaligned(fromByteOffset: 8, as: Int32.self)
        let type = control.loadUnaligned(fromByteOffset: 12, as: Int32.self)
        guard level == Self.levelUDP, type == Self.udpGRO else { return nil }
        let size = Int(control.loadUnaligned(fromByteOffset: 16, as: Int32.self))
        return size > 0 ? size : nil
    }

    /// Points iovec `position` at `range` of slot `index` (for `prepareSegmentedSend`).
    func prepareVector(position: Int, slot index: Int, range: Range<Int>) {
        let s = slot(index)
        vectors[position] = iovec(iov_base: s.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
    }

    /// Makes header `position` send iovecs `vectors` (prepared by `prepareVector`) to
    /// `destination`, as one UDP GSO send cut by the kernel into `segmentSize`-byte datagrams
    /// (UDP_SEGMENT; the last may be shorter), or as one datagram when `segmentSize` is nil.
    func prepareSegmentedSend(position: Int, vectors range: Range<Int>, segmentSize: Int?, to destination: SocketAddress) {
        names[position] = destination.storage
        headers[position].header = msghdr()
        headers[position].header.msg_iov = vectors + range.lowerBound
        headers[position].header.msg_iovlen = range.count
        headers[position].header.msg_name = UnsafeMutableRawPointer(names + position)
        headers[position].header.msg_namelen = destination.length
        if let segmentSize {
            let control = controls + position * Self.controlSize
            // CMSG_LEN(2) = 18, CMSG_SPACE(2) = 24 on LP64.
            control.storeBytes(of: 18, toByteOffset: 0, as: Int.self)
            control.storeBytes(of: Self.levelUDP, toByteOffset: 8, as: Int32.self)
            control.storeBytes(of: Self.udpSegment, toByteOffset: 12, as: Int32.self)
            control.storeBytes(of: UInt16(segmentSize), toByteOffset: 16, as: UInt16.self)
            headers[position].header.msg_control = control
            headers[position].header.msg_controllen = 24
        }
        headers[position].length = 0
    }
}
