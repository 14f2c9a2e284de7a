@testable import Daemon
import DataplaneContract
import IKEv2
import Logging
import NetTypes
import Synchronization
import Topology

/// Records the data-plane calls `EndpointDriver` makes, in order ("install c1 gw-b", "activate c1
/// gw-b", "delete c1 gw-b", "follow c1 192.0.2.2:47000 gw-b", inbound SPIs in hex); `refusing`
/// makes every call throw.
final class RecordingDataplane: DataplaneBackend {
    let name = "recording"
    var installed: [ESPSPI] = []
    var deleted: [ESPSPI] = []
    var calls: [String] = []
    var refusing: DataplaneError?
    func install(_ sa: ChildSAParameters, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        calls.append("install \(String(sa.inboundSPI.rawValue, radix: 16))\(sa.activateOutbound ? "" : " idle") \(peer)")
        if let refusing { throw refusing }
        installed.append(sa.inboundSPI)
    }
    func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        calls.append("delete \(String(inboundSPI.rawValue, radix: 16)) \(peer)")
        if let refusing { throw refusing }
        deleted.append(inboundSPI)
    }
    func activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        calls.append("activate \(String(inboundSPI.rawValue, radix: 16)) \(peer)")
        if let refusing { throw refusing }
    }
    func updatePeerEndpoint(inboundSPI: ESPSPI, peerEndpoint: IKEEndpoint, tunnel: TunnelID) throws(DataplaneError) {
        let peer = tunnel.peer
        calls.append("follow \(String(inboundSPI.rawValue, radix: 16)) \(peerEndpoint) \(peer)")
        if let refusing { throw refusing }
    }
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
