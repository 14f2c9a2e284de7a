import ESP
import Glibc
import IKEv2

// The inbound pipeline (one thread):
//
//   poll(command wake-up, udp) ─▶ recvmmsg(2) ≤ batch datagrams into slots at 0
//        ─▶ classify each (RFC 3948 §2: non-ESP marker → IKE, 0xFF → keepalive, else ESP)
//        ─▶ decapsulate ESP in place (RFC 4303 §3.4: SPI, replay pre-check, ICV, window update,
//           padding, inner header) ─▶ write the inner packet to its peer's TUN
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
    private var statistics = DataplaneStatistics()
    private var touched: [ESPSPI] = []

    init(core: DataplaneCore) {
        self.core = core
        batch = PacketBatch(capacity: core.configuration.batchSize, headroom: 0,
                            packetSize: core.configuration.maximumPacketSize + DataplaneCore.headroom + DataplaneCore.tailroom)
        touched.reserveCapacity(core.configuration.batchSize)
    }

    func run() {
        applyCommands()
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
                for i in 0..<count { process(slot: i, length: Int(batch.headers[i].length), truncated: batch.truncated(i)) }
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
                guard let sa = try? SAFactory.inbound(parameters, lifetime: lifetime, replayWindowSize: window) else { continue }
                table.insert(sa)
                devices[sa.spi] = device
                touched.append(sa.spi)
            case .delete(let spi):
                table.remove(spi)
                devices[spi] = nil
                core.published.withLock { $0.inbound[spi] = nil }
            case .datagram(let bytes):
                receive(bytes)
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

    private func process(slot index: Int, length: Int, truncated: Bool) {
        statistics.datagramsReceived &+= 1
        guard !truncated else {
            statistics.truncatedDatagrams &+= 1
            return
        }
        let slot = batch.slot(index)
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
        do {
            result = try table.decapsulate(buffer, packet: 0..<length)
        } catch {
            // Counted by the SA (bad ICV, replay, padding, ...) or by the table (unknown SPI).
            if table[spi] != nil, touched.last != spi { touched.append(spi) }
            return
        }
        if touched.last != spi { touched.append(spi) }
        guard case .packet(let range, _) = result, let device = devices[spi] else { return }
        if case .failure = device.write(UnsafeRawBufferPointer(rebasing: buffer[range])) {
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
        case .esp(let spi): decapsulate(slot, length: payload.count, spi: spi)
        case .natKeepalive: statistics.natKeepalives &+= 1
        case .ike: statistics.ikeDatagramsDropped &+= 1
        case .invalid: statistics.garbageDatagrams &+= 1
        }
    }
}
