import ESP
import Glibc

// The outbound pipeline (one thread), in the spirit of wireguard-go's device/send.go:
//
//   poll(command wake-up, tun...) ─▶ read ≤ batch packets from one TUN into slots at `headroom`
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
    }

    private let core: DataplaneCore
    private let batch: PacketBatch
    private var lengths: [Int]
    private var peers: [String: Peer] = [:]
    private var order: [String] = []
    private var pollSet: [pollfd] = []
    private var statistics = DataplaneStatistics()

    init(core: DataplaneCore) {
        self.core = core
        batch = PacketBatch(capacity: core.configuration.batchSize, headroom: DataplaneCore.headroom,
                            packetSize: core.configuration.maximumPacketSize + DataplaneCore.tailroom)
        lengths = [Int](repeating: 0, count: core.configuration.batchSize)
    }

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

    /// Reads one batch from the peer's TUN, encrypts and sends it; returns how many were read.
    private func forward(_ name: String) -> Int {
        guard let peer = peers[name] else { return 0 }
        let headroom = batch.headroom
        var count = 0
        while count < batch.capacity {
            let slot = batch.slot(count)
            let space = UnsafeMutableRawBufferPointer(rebasing: slot[headroom..<(slot.count - DataplaneCore.tailroom)])
            guard case .success(let n) = peer.device.read(into: space) else {
                statistics.tunReadErrors &+= 1
                break
            }
            if n == 0 { break }
            lengths[count] = n
            count += 1
        }
        guard count > 0 else { return 0 }
        guard let sa = peer.current, let destination = peer.destination else {
            statistics.outboundWithoutSA &+= UInt64(count)
            publish(all: false)
            return count
        }
        var ready = 0
        for i in 0..<count {
            do {
                let range = try sa.encapsulate(batch.slot(i), packet: headroom..<(headroom + lengths[i]))
                batch.prepareSend(position: ready, slot: i, range: range, to: destination)
                ready += 1
            } catch {
                statistics.encapsulationErrors &+= 1
            }
        }
        if ready > 0 { send(count: ready) }
        publish(all: false, sa: sa)
        return count
    }

    /// sendmmsg(2) the first `count` prepared headers, waiting (bounded) for room when the socket
    /// buffer is full rather than dropping a batch that already spent its sequence numbers.
    private func send(count: Int) {
        var sent = 0
        var waits = 0
        let fd = core.socket.descriptor.rawValue
        while sent < count {
            switch BatchSyscalls.send(fd, batch.headers + sent, count: count - sent) {
            case .success(let n) where n > 0:
                sent += n
                statistics.datagramsSent &+= UInt64(n)
            case .failure(let e) where e.wouldBlock && waits < 100:
                waits += 1
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 10)
            default:
                // This datagram is refused (unreachable, too big) or we waited long enough:
                // count it and go on with the rest.
                statistics.sendErrors &+= 1
                sent += 1
            }
        }
    }
}
