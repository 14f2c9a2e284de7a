import ESP
import Glibc
import System
import IKEv2
import NetTypes

// The inbound pipeline (one thread):
//
//   poll(command wake-up, udp) ─▶ recvmmsg(2) ≤ batch datagrams into slots at 0
//        ─▶ classify each (RFC 3948 §2: non-ESP marker → IKE, 0xFF → keepalive, else ESP)
//        ─▶ decapsulate ESP in place (RFC 4303 §3.4: SPI, replay pre-check, ICV, window update,
//           padding, inner header) ─▶ once the batch is decrypted, write the inner packets to
//           their TUNs in order, consecutive segments of one TCP flow merged into one GSO write
//           (TCPCoalescer) when the TUN has offloads
//        ─▶ hand IKE messages to the daemon; publish the counters of the SAs that saw traffic
//
// Every refusal is counted (per SA by reason in ESPStatistics, or data-plane wide) and the packet
// dropped; nothing a datagram contains can make this loop stop.

/// The inbound worker's private state: the SAD by SPI. Not `Sendable`: never leaves its thread.
final class InboundWorker {
    private let core: DataplaneCore
    private let batch: PacketBatch
    private let table = ESPInboundSATable()
    private var devices: [ESPSPI: TUNDevice] = [:]
    /// The SA and TUN of the last packet: a stream's packets come in runs of one SPI, and this
    /// spares two dictionary lookups (hashing) per packet. Cleared by every install and delete.
    private var lastHit: (spi: ESPSPI, sa: ESPInboundSA, device: TUNDevice, clamp: MSSClampLimits?)?
    /// `mss-clamp` by TUN device (absent: off).
    /// The device is held so its identifier is not reused while it has an entry.
    private var clamps: [ObjectIdentifier: (device: TUNDevice, limits: MSSClampLimits)] = [:]
    private var statistics = DataplaneStatistics()
    private var touched: [ESPSPI] = []
    /// Decrypted packets of the current batch, written to their TUNs (coalesced where TCPCoalescer
    /// allows) once the batch is decrypted, in arrival order.
    private var pending: [(packet: UnsafeMutableRawBufferPointer, device: TUNDevice)] = []
    private var members: [TCPCoalescer.Segment] = []
    /// A coalesced train's virtio header and merged IP/TCP headers; its payloads are gathered
    /// from the slots by writev.
    private let trainHeaders: UnsafeMutableRawBufferPointer
    private let vectors: UnsafeMutablePointer<iovec>
    /// Segments per coalesced write at most (as many as one UDP GSO send carries; far below
    /// writev's limit of 1,024 pieces).
    static let maximumTrain = 64

    init(core: DataplaneCore) {
        self.core = core
        batch = PacketBatch(capacity: core.configuration.batchSize, headroom: 0,
                            packetSize: core.configuration.maximumPacketSize + DataplaneCore.headroom + DataplaneCore.tailroom)
        touched.reserveCapacity(core.configuration.batchSize)
        pending.reserveCapacity(core.configuration.batchSize)
        members.reserveCapacity(core.configuration.batchSize)
        trainHeaders = .allocate(byteCount: VirtioNetHeader.size + 120, alignment: 64)   // IPv6 40 + TCP ≤ 60
        vectors = .allocate(capacity: Self.maximumTrain + 1)
    }

    deinit {
        trainHeaders.deallocate()
        vectors.deallocate()
    }

    func run() {
        applyCommands()
        // UDP GRO: equal-sized ESP datagrams of one flow arrive coalesced in one slot (split in
        // `receive`), one trip through the UDP stack for up to 64 KB. Harmless when refused.
        var on: Int32 = 1
        _ = setsockopt(core.socket.descriptor.rawValue, PacketBatch.levelUDP, PacketBatch.udpGRO, &on, socklen_t(MemoryLayout<Int32>.size))
        var pollSet = [pollfd(fd: core.inboundCommands.wake.descriptor.rawValue, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: core.socket.descriptor.rawValue, events: Int16(POLLIN), revents: 0)]
        let fd = core.socket.descriptor.rawValue
        while !core.stopping.load(ordering: .relaxed) {
            let ready = pollSet.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
            guard ready > 0 else { continue }
            if pollSet[0].revents != 0 {
                core.inboundCommands.wake.drain()
                applyCommands()
            }
            guard pollSet[1].revents != 0 else { continue }
            for _ in 0..<8 {
                batch.prepareReceive()
                guard case .success(let count) = BatchSyscalls.receive(fd, batch.headers, count: batch.capacity), count > 0 else { break }
                for i in 0..<count { receive(slot: i, length: Int(batch.headers[i].length)) }
                writePending()
                publish()
                if count < batch.capacity { break }
            }
        }
    }

    // MARK: Control

    private func applyCommands() {
        let (commands, through) = core.inboundCommands.take()
        for command in commands {
            switch command {
            case .install(let parameters, let device, let lifetime, let window):
                // The control plane built this SA once already to check it; this cannot fail
                // short of memory, and then the SA is simply absent (its SPI counts as unknown).
                lastHit = nil
                guard let sa = try? SAFactory.inbound(parameters, lifetime: lifetime, replayWindowSize: window) else { continue }
                table.insert(sa)
                devices[sa.spi] = device
                touched.append(sa.spi)
            case .delete(let spi):
                lastHit = nil
                table.remove(spi)
                devices[spi] = nil
                core.published.withLock { $0.inbound[spi] = nil }
            case .datagram(let bytes):
                receive(bytes)
            case .setMSSClamp(let device, let limits):
                lastHit = nil
                clamps[ObjectIdentifier(device)] = limits.map { (device, $0) }
            }
        }
        publish()
        core.inboundCommands.markApplied(through)
    }

    private func publish() {
        var wide = statistics
        wide.unknownSPI = table.statistics.dropsUnknownSPI
        wide.malformedESP = table.statistics.dropsMalformed
        let reports = touched.compactMap { spi in
            table[spi].map { (spi, SAReport(statistics: $0.statistics, lifetime: $0.lifetimeState)) }
        }
        touched.removeAll(keepingCapacity: true)
        core.published.withLock { p in
            p.inboundWide = wide
            for (spi, report) in reports { p.inbound[spi] = report }
        }
    }

    // MARK: Packets

    /// One received datagram, or (UDP GRO, RFC-less: linux/udp.h UDP_GRO) several equal-sized
    /// ones the kernel coalesced into the slot back to back, the last maybe shorter.
    private func receive(slot index: Int, length: Int) {
        guard !batch.truncated(index) else {
            statistics.datagramsReceived &+= 1
            statistics.truncatedDatagrams &+= 1
            return
        }
        let slot = batch.slot(index)
        for datagram in GRODatagrams(length: length, segmentSize: batch.receivedSegmentSize(index)) {
            process(UnsafeMutableRawBufferPointer(rebasing: slot[datagram]), source: index)
        }
    }

    /// Classifies and handles one datagram occupying all of `slot`; `source` is its header index.
    private func process(_ slot: UnsafeMutableRawBufferPointer, source index: Int) {
        statistics.datagramsReceived &+= 1
        let length = slot.count
        switch ESPInUDPPayload.classify(UnsafeRawBufferPointer(rebasing: slot[0..<length])) {
        case .natKeepalive:
            statistics.natKeepalives &+= 1
        case .invalid:
            statistics.garbageDatagrams &+= 1
        case .ike(let offset):
            guard let handler = core.ikeHandler,
                  let source = SocketAddress.endpoint(batch.sourceAddress(index)) else {
                statistics.ikeDatagramsDropped &+= 1
                return
            }
            statistics.ikeDatagrams &+= 1
            let bytes = Array(UnsafeRawBufferPointer(rebasing: slot[offset..<length]))
            handler(IKEDatagram(bytes: bytes, source: source, destination: core.socket.local))
        case .esp(let spi):
            decapsulate(slot, length: length, spi: spi)
        }
    }

    private func decapsulate(_ buffer: UnsafeMutableRawBufferPointer, length: Int, spi: ESPSPI) {
        let result: ESPDecapsulated
        let device: TUNDevice?
        let clamp: MSSClampLimits?
        do {
            if let hit = lastHit, hit.spi == spi {
                result = try hit.sa.decapsulate(buffer, packet: 0..<length)
                device = hit.device
                clamp = hit.clamp
            } else {
                result = try table.decapsulate(buffer, packet: 0..<length)
                device = devices[spi]
                clamp = device.flatMap { clamps[ObjectIdentifier($0)]?.limits }
                if let device, let sa = table[spi] { lastHit = (spi, sa, device, clamp) }
            }
        } catch {
            // Counted by the SA (bad ICV, replay, padding, ...) or by the table (unknown SPI).
            if table[spi] != nil, touched.last != spi { touched.append(spi) }
            return
        }
        if touched.last != spi { touched.append(spi) }
        guard case .packet(let range, _) = result, let device else { return }
        // writeSingle puts the virtio header in the 10 bytes before the packet: always free,
        // since at least the ESP header and IV (16 or 24 bytes) preceded it.
        guard range.lowerBound >= VirtioNetHeader.size else {
            statistics.tunWriteErrors &+= 1
            return
        }
        let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[range])
        if let clamp { _ = TCPMSSClamp.clamp(packet, limits: clamp) }
        pending.append((packet, device))
    }

    /// Writes the batch's decrypted packets in order: a run of consecutive segments of one TCP
    /// flow to the same TUN as one GSO super-packet, everything else one by one.
    private func writePending() {
        var index = 0
        var carried: TCPCoalescer.Segment?
        while index < pending.count {
            let (packet, device) = pending[index]
            guard device.offloads else {
                write(UnsafeRawBufferPointer(packet), to: device)
                index += 1
                continue
            }
            let head = carried ?? TCPCoalescer.Segment(UnsafeRawBufferPointer(packet))
            carried = nil
            var next = index + 1
            if let head {
                var train = TCPCoalescer(first: head)
                members.removeAll(keepingCapacity: true)
                members.append(head)
                while next < pending.count, members.count < Self.maximumTrain, pending[next].device === device,
                      let segment = TCPCoalescer.Segment(UnsafeRawBufferPointer(pending[next].packet)) {
                    guard train.append(segment) else {
                        carried = segment
                        break
                    }
                    members.append(segment)
                    next += 1
                }
                if train.count > 1, writeTrain(train, to: device) {
                    statistics.tunCoalescedWrites &+= 1
                    statistics.tunCoalescedSegments &+= UInt64(train.count)
                    index = next
                    continue
                }
            }
            writeSingle(packet, to: device)
            index += 1
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// A train as one GSO packet, gathered: its headers, then each member's payload in place.
    private func writeTrain(_ train: TCPCoalescer, to device: TUNDevice) -> Bool {
        guard members.count <= Self.maximumTrain, let count = train.writeHeaders(into: trainHeaders) else { return false }
        vectors[0] = iovec(iov_base: trainHeaders.baseAddress, iov_len: count)
        for (i, member) in members.enumerated() {
            guard let payload = member.packet.baseAddress?.advanced(by: member.headersLength) else { return false }
            vectors[i + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: payload), iov_len: member.payloadLength)
        }
        if case .failure = device.write(vectors: vectors, count: members.count + 1) {
            statistics.tunWriteErrors &+= 1
        }
        return true
    }

    /// One packet to a TUN with offloads: a zero virtio header (no GSO, checksums complete) goes
    /// in front, in the ESP header bytes decapsulation left free.
    private func writeSingle(_ packet: UnsafeMutableRawBufferPointer, to device: TUNDevice) {
        guard let start = packet.baseAddress, packet.count <= 65_535 else {
            statistics.tunWriteErrors &+= 1
            return
        }
        // The inner packet sits after at least the ESP header and IV (16 or 24 bytes, RFC 4303 §2).
        let framed = UnsafeMutableRawBufferPointer(start: start - VirtioNetHeader.size, count: packet.count + VirtioNetHeader.size)
        VirtioNetHeader().encode(into: framed)
        write(UnsafeRawBufferPointer(framed), to: device)
    }

    private func write(_ bytes: UnsafeRawBufferPointer, to device: TUNDevice) {
        if case .failure = device.write(bytes) {
            statistics.tunWriteErrors &+= 1
        }
    }

    /// A datagram the daemon's own socket received: same processing, one copy.
    private func receive(_ payload: [UInt8]) {
        statistics.datagramsReceived &+= 1
        guard payload.count <= batch.slotSize else {
            statistics.truncatedDatagrams &+= 1
            return
        }
        let slot = batch.slot(0)
        slot.copyBytes(from: payload)
        switch ESPInUDPPayload.classify(UnsafeRawBufferPointer(rebasing: slot[0..<payload.count])) {
        case .esp(let spi):
            decapsulate(slot, length: payload.count, spi: spi)
            writePending()
        case .natKeepalive: statistics.natKeepalives &+= 1
        case .ike: statistics.ikeDatagramsDropped &+= 1
        case .invalid: statistics.garbageDatagrams &+= 1
        }
    }
}
