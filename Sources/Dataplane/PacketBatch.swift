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
    }

    deinit {
        storage.deallocate()
        headers.deallocate()
        vectors.deallocate()
        names.deallocate()
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
            headers[i].length = 0
        }
    }

    /// The address recvmmsg(2) stored for datagram `index`.
    func sourceAddress(_ index: Int) -> UnsafeRawPointer { UnsafeRawPointer(names + index) }

    /// True when the kernel cut datagram `index` to fit the slot (MSG_TRUNC).
    func truncated(_ index: Int) -> Bool { headers[index].header.msg_flags & Int32(MSG_TRUNC) != 0 }

    /// Makes header `position` send `range` of slot `index` to `destination`.
    func prepareSend(position: Int, slot index: Int, range: Range<Int>, to destination: SocketAddress) {
        let s = slot(index)
        names[position] = destination.storage
        vectors[position] = iovec(iov_base: s.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
        headers[position].header = msghdr()
        headers[position].header.msg_iov = vectors + position
        headers[position].header.msg_iovlen = 1
        headers[position].header.msg_name = UnsafeMutableRawPointer(names + position)
        headers[position].header.msg_namelen = destination.length
        headers[position].length = 0
    }
}
