import ESP
import Glibc
import NetTypes
import System

// The outbound pipeline (one thread), in the spirit of wireguard-go's device/send.go:
//
//   poll(command wake-up, tun...) ─▶ read ≤ batch packets from one TUN into slots at `headroom`
//        (with offloads: ≤ batch reads of up to 64 KB, each cut by GSOSegmenter into MSS-sized
//        TCP segments written straight into the slots; a full batch is sent before cutting on)
//        ─▶ encapsulate each in place with the peer's current SA (RFC 4303 §3.3)
//        ─▶ sendmmsg(2) the batch to the peer's 4500 (waiting for POLLOUT when the buffer is full)
//        ─▶ publish the SA's counters (one uncontended lock per batch)
//
// The thread owns its SAs outright; the control plane reaches them only through commands, which
// are applied between batches, so a batch is encrypted under one consistent view.

/// The outbound worker's private state. Not `Sendable`: created on, and never leaves, its thread.
final class OutboundWorker {
    private struct Peer {
        let device: TUNDevice
        var destination: SocketAddress?
        var current: ESPOutboundSA?
        var sas: [ESPSPI: ESPOutboundSA] = [:]
        /// `mss-clamp` (nil: off).
        var mssClamp: MSSClampLimits?
    }

    private let core: DataplaneCore
    private let batch: PacketBatch
    private var lengths: [Int]
    /// Datagrams carried by each prepared send header (more than one with UDP GSO).
    private var segments: [Int]
    /// UDP_SEGMENT in use; cleared for good when the kernel refuses it (then one datagram each).
    private var udpGSO = true
    private var peers: [String: Peer] = [:]
    private var order: [String] = []
    private var pollSet: [pollfd] = []
    private var statistics = DataplaneStatistics()
    /// Where a read from a TUN with offloads lands (virtio header + up to 64 KB) before it is cut
    /// into the slots.
    private let superPacket: UnsafeMutableRawBufferPointer

    init(core: DataplaneCore) {
        self.core = core
        batch = PacketBatch(capacity: core.configuration.batchSize, headroom: DataplaneCore.headroom,
                            packetSize: core.configuration.maximumPacketSize + DataplaneCore.tailroom)
        lengths = [Int](repeating: 0, count: core.configuration.batchSize)
        segments = [Int](repeating: 1, count: core.configuration.batchSize)
        superPacket = .allocate(byteCount: VirtioNetHeader.size + 65_536, alignment: 64)
    }

    deinit { superPacket.deallocate() }

    func run() {
        applyCommands()
        while !core.stopping.load(ordering: .relaxed) {
            let ready = pollSet.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
            guard ready > 0 else { continue }
            if pollSet[0].revents != 0 {
                core.outboundCommands.wake.drain()
                applyCommands()
                continue
            }
            for index in order.indices where pollSet[index + 1].revents & Int16(POLLIN) != 0 {
                // Up to a few batches per wake-up, then the other devices get their turn.
                var rounds = 0
                while rounds < 4, forward(order[index]) == batch.capacity { rounds += 1 }
            }
        }
    }

    // MARK: Control

    private func applyCommands() {
        let (commands, through) = core.outboundCommands.take()
        for command in commands { apply(command) }
        pollSet = [pollfd(fd: core.outboundCommands.wake.descriptor.rawValue, events: Int16(POLLIN), revents: 0)]
        order = Array(peers.keys)
        pollSet += order.compactMap { peers[$0] }.map { pollfd(fd: $0.device.descriptor.rawValue, events: Int16(POLLIN), revents: 0) }
        publish(all: true)
        core.outboundCommands.markApplied(through)
    }

    private func apply(_ command: OutboundCommand) {
        switch command {
        case .setMSSClamp(let name, let limits):
            peers[name]?.mssClamp = limits
        case .addPeer(let name, let device):
            peers[name] = Peer(device: device)
        case .removePeer(let name):
            if let peer = peers.removeValue(forKey: name) {
                core.published.withLock { p in for spi in peer.sas.keys { p.outbound[spi] = nil } }
            }
        case .install(let name, let parameters, let destination, let lifetime, let ivMask, let activate):
            guard peers[name] != nil,
                  let sa = try? SAFactory.outbound(parameters, lifetime: lifetime, ivMask: ivMask) else {
                statistics.encapsulationErrors &+= 1
                return
            }
            peers[name]?.sas[sa.spi] = sa
            peers[name]?.destination = destination
            if activate { peers[name]?.current = sa }
        case .activate(let name, let spi):
            if let sa = peers[name]?.sas[spi] { peers[name]?.current = sa }
        case .setDestination(let name, let destination):
            peers[name]?.destination = destination
        case .delete(let name, let spi):
            guard let removed = peers[name]?.sas.removeValue(forKey: spi) else { return }
            if peers[name]?.current === removed {
                // Fall back to a remaining SA the peer still accepts: the most used one.
                let fallback = peers[name]?.sas.values.max { $0.statistics.packetsOut < $1.statistics.packetsOut }
                peers[name]?.current = fallback
            }
            core.published.withLock { $0.outbound[spi] = nil }
        }
    }

    private func publish(all: Bool, sa: ESPOutboundSA? = nil) {
        let wide = statistics
        if all {
            let reports = peers.values.flatMap { $0.sas.values }.map {
                ($0.spi, SAReport(statistics: $0.statistics, lifetime: $0.lifetimeState, sequenceNumber: $0.sequenceNumber))
            }
            core.published.withLock { p in
                p.outboundWide = wide
                for (spi, report) in reports { p.outbound[spi] = report }
            }
        } else if let sa {
            let report = SAReport(statistics: sa.statistics, lifetime: sa.lifetimeState, sequenceNumber: sa.sequenceNumber)
            core.published.withLock { p in
                p.outboundWide = wide
                p.outbound[sa.spi] = report
            }
        } else {
            core.published.withLock { $0.outboundWide = wide }
        }
    }

    // MARK: Packets

    /// Reads up to one batch of packets (or super-packets) from the peer's TUN, cuts, encrypts and
    /// sends them, a batch of slots at a time; returns how many reads it made.
    private func forward(_ name: String) -> Int {
        guard let peer = peers[name] else { return 0 }
        let headroom = batch.headroom
        let device = peer.device
        var reads = 0
        var count = 0
        while reads < batch.capacity {
            if !device.offloads {
                let slot = batch.slot(count)
                let space = UnsafeMutableRawBufferPointer(rebasing: slot[headroom..<(slot.count - DataplaneCore.tailroom)])
                guard case .success(let n) = device.read(into: space) else {
                    statistics.tunReadErrors &+= 1
                    break
                }
                if n == 0 { break }
                reads += 1
                lengths[count] = n
                count += 1
                if count == batch.capacity { break }
                continue
            }
            guard case .success(let n) = device.read(into: superPacket) else {
                statistics.tunReadErrors &+= 1
                break
            }
            if n == 0 { break }
            reads += 1
            let read = UnsafeRawBufferPointer(rebasing: superPacket[0..<n])
            guard let header = VirtioNetHeader(decoding: read),
                  let segmenter = try? GSOSegmenter(packet: UnsafeRawBufferPointer(rebasing: read[VirtioNetHeader.size...]), header: header) else {
                statistics.offloadErrors &+= 1
                continue
            }
            if segmenter.segmentCount > 1 { statistics.tunSuperPacketsRead &+= 1 }
            for index in 0..<segmenter.segmentCount {
                if count == batch.capacity {
                    encryptAndSend(peer, count: count)
                    count = 0
                }
                let slot = batch.slot(count)
                guard let length = segmenter.segment(index, into: UnsafeMutableRawBufferPointer(
                    rebasing: slot[headroom..<(slot.count - DataplaneCore.tailroom)])) else {
                    statistics.offloadErrors &+= 1
                    continue
                }
                lengths[count] = length
                count += 1
            }
        }
        if count > 0 { encryptAndSend(peer, count: count) }
        return reads
    }

    /// Encrypts slots 0 ..< count in place under the peer's current SA and sends them.
    private func encryptAndSend(_ peer: Peer, count: Int) {
        let headroom = batch.headroom
        guard let sa = peer.current, let destination = peer.destination else {
            statistics.outboundWithoutSA &+= UInt64(count)
            publish(all: false)
            return
        }
        var ready = 0
        let clamp = peer.mssClamp
        for i in 0..<count {
            if let clamp {
                _ = TCPMSSClamp.clamp(UnsafeMutableRawBufferPointer(rebasing: batch.slot(i)[headroom..<(headroom + lengths[i])]), limits: clamp)
            }
            do {
                let range = try sa.encapsulate(batch.slot(i), packet: headroom..<(headroom + lengths[i]))
                batch.prepareVector(position: ready, slot: i, range: range)
                lengths[ready] = range.count
                ready += 1
            } catch {
                statistics.encapsulationErrors &+= 1
            }
        }
        // Group runs of equal-sized ESP packets (the last of a run may be shorter) into UDP GSO
        // sends: one trip through the UDP/IP stack and the device for up to 64 KB of datagrams.
        var headers = 0
        var first = 0
        while first < ready {
            var end = first + 1
            var total = lengths[first]
            if udpGSO {
                while end < ready, end - first < Self.maximumGSOSegments, lengths[end] <= lengths[first],
                      total + lengths[end] <= Self.maximumGSOBytes {
                    total += lengths[end]
                    end += 1
                    if lengths[end - 1] < lengths[first] { break }
                }
            }
            batch.prepareSegmentedSend(position: headers, vectors: first..<end,
                                       segmentSize: end - first > 1 ? lengths[first] : nil, to: destination)
            segments[headers] = end - first
            headers += 1
            first = end
        }
        if headers > 0 { send(count: headers) }
        publish(all: false, sa: sa)
    }

    /// UDP_MAX_SEGMENTS is 64 on older kernels (128 since 6.x), and a GSO send is one UDP datagram
    /// as far as lengths go: under 64 KB of payload.
    static let maximumGSOSegments = 64
    static let maximumGSOBytes = 65_000

    /// sendmmsg(2) the first `count` prepared headers, waiting (bounded) for room when the socket
    /// buffer is full rather than dropping a batch that already spent its sequence numbers.
    private func send(count: Int) {
        var sent = 0
        var waits = 0
        let fd = core.socket.descriptor.rawValue
        while sent < count {
            switch BatchSyscalls.send(fd, batch.headers + sent, count: count - sent) {
            case .success(let n) where n > 0:
                for i in sent..<(sent + n) { statistics.datagramsSent &+= UInt64(segments[i]) }
                sent += n
            case .failure(let e) where e.isWouldBlock && waits < 100:
                waits += 1
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 10)
            case .failure(let e) where segments[sent] > 1 && (e.rawValue == EIO || e.rawValue == EINVAL || e.rawValue == ENOPROTOOPT):
                // No UDP GSO on this path (a device without checksum offload, an old kernel): this
                // group is lost, the next batches go one datagram per header.
                udpGSO = false
                statistics.sendErrors &+= UInt64(segments[sent])
                sent += 1
            default:
                // This datagram is refused (unreachable, too big) or we waited long enough:
                // count it and go on with the rest.
                statistics.sendErrors &+= UInt64(segments[sent])
                sent += 1
            }
        }
    }
}
