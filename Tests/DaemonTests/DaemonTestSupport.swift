import CryptoCore
@testable import Daemon
import DataplaneContract
import IKEv2
import Logging
import NetTypes
import Synchronization
import Topology

/// Builds an IKE header (RFC 7296 §3.1) with the given SPIs, exchange and flags, plus `extra`
/// payload bytes, for routing tests. Not a valid message beyond the header.
func ikeMessage(spiI: UInt64, spiR: UInt64, exchange: UInt8 = 34, initiator: Bool, response: Bool,
                messageID: UInt32 = 0, extra: [UInt8] = []) -> [UInt8] {
    var b: [UInt8] = []
    for v in [spiI, spiR] { for s in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    b += [33, 0x20, exchange, (initiator ? 0x08 : 0) | (response ? 0x20 : 0)]
    for s in stride(from: 24, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: messageID >> UInt32(s))) }
    let len = UInt32(28 + extra.count)
    for s in stride(from: 24, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: len >> UInt32(s))) }
    return b + extra
}

let gwA: [UInt8] = [192, 0, 2, 1]
let gwB: [UInt8] = [192, 0, 2, 2]
let stranger: [UInt8] = [203, 0, 113, 9]

/// A scripted session: records what it was fed; its replies and events are queued by the test.
final class FakeSession: IKESessionDriving {
    let initiator: Bool
    let spi: UInt64
    let local: IKEEndpoint
    let peer: IKEEndpoint
    var received: [IKEDatagram] = []
    var started: [IKEInstant] = []
    var timeouts: [IKEInstant] = []
    var transmit: [IKEDatagram] = []
    var events: [IKEEvent] = []
    var nextDeadline: IKEInstant?
    /// Called on receive: lets a test script an answer.
    var onReceive: ((FakeSession, IKEDatagram) -> Void)?
    /// What `localIKESPIs` reports (empty: its own `spi`, as before an IKE SA rekey).
    var spis: [UInt64] = []
    var closes: [IKEInstant] = []
    /// Events queued when `close` is called (e.g. the Delete's answer).
    var onClose: [IKEEvent] = []
    var commands: [SessionCommand] = []
    var acceptsCommands = true

    init(initiator: Bool, spi: UInt64, local: IKEEndpoint, peer: IKEEndpoint) {
        self.initiator = initiator
        self.spi = spi
        self.local = local
        self.peer = peer
    }

    func start(now: IKEInstant) {
        started.append(now)
        guard initiator else { return }
        transmit.append(IKEDatagram(bytes: ikeMessage(spiI: spi, spiR: 0, initiator: true, response: false),
                                    source: local, destination: peer))
        nextDeadline = now.adding(seconds: 4)
    }

    func receive(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant) {
        received.append(datagram)
        onReceive?(self, datagram)
    }

    func timeout(now: IKEInstant) { timeouts.append(now); nextDeadline = nil }
    var localIKESPIs: [IKESPI] { (spis.isEmpty ? [spi] : spis).map { IKESPI($0) } }
    func close(now: IKEInstant) {
        closes.append(now)
        events += onClose
    }
    func perform(_ command: SessionCommand, now: IKEInstant) -> Bool {
        commands.append(command)
        return acceptsCommands
    }
    func pollTransmit() -> IKEDatagram? { transmit.isEmpty ? nil : transmit.removeFirst() }
    func pollEvent() -> IKEEvent? { events.isEmpty ? nil : events.removeFirst() }
}

/// Hands out FakeSessions with SPIs 0x1000, 0x1001, ... and keeps them for inspection.
final class FakeFactory: IKESessionFactory {
    var made: [FakeSession] = []
    var nextSPI: UInt64 = 0x1000
    var responderScript: ((FakeSession, IKEDatagram) -> Void)?

    func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        let s = FakeSession(initiator: initiator, spi: nextSPI, local: peer.local, peer: peer.remote)
        nextSPI += 1
        if !initiator { s.onReceive = responderScript }
        made.append(s)
        return s
    }
}

final class RecordingDataplane: DataplaneBackend {
    let name = "recording"
    var installed: [ESPSPI] = []
    var deleted: [ESPSPI] = []
    func install(_ sa: ChildSAParameters, peer: String) throws(DataplaneError) { installed.append(sa.inboundSPI) }
    func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) { deleted.append(inboundSPI) }
    func counters(inboundSPI: ESPSPI) -> ChildSACounters? { nil }
    var plans: [NodePlan] = []
    func update(plan: NodePlan) throws(DataplaneError) { plans.append(plan) }
}

/// Captures formatted log lines (through the real KeyValueLogHandler formatting) in memory.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    var text: String { lines.joined() }
    func append(_ line: String) { storage.withLock { $0.append(line) } }

    func logger(level: Logger.Level = .debug) -> Logger {
        Logger(label: "test") { label in
            KeyValueLogHandler(label: label, level: level) { line in self.storage.withLock { $0.append(line) } }
        }
    }
}
