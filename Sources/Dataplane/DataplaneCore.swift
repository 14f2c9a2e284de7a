import DataplaneContract
import IKEv2
import Synchronization

/// What the worker threads share with the control plane, and nothing else: the socket, the two
/// command queues, the published counters and the stop flag. All `Sendable`; the SAs are not here
/// (each worker owns its own). Separate from `UserspaceDataplane` so that the workers do not keep
/// the public object alive (its `deinit` stops them).
final class DataplaneCore: Sendable {
    let socket: ESPSocket
    let configuration: UserspaceDataplane.Configuration
    let ikeHandler: (@Sendable (IKEDatagram) -> Void)?
    let outboundCommands: CommandQueue<OutboundCommand>
    let inboundCommands: CommandQueue<InboundCommand>
    let published = Mutex(PublishedCounters())
    let stopping = Atomic<Bool>(false)
    let running = Atomic<Bool>(false)

    init(socket: ESPSocket, configuration: UserspaceDataplane.Configuration,
         ikeHandler: (@Sendable (IKEDatagram) -> Void)?) throws(DataplaneError) {
        self.socket = socket
        self.configuration = configuration
        self.ikeHandler = ikeHandler
        outboundCommands = try CommandQueue()
        inboundCommands = try CommandQueue()
    }

    /// ESP header and IV in front of every outbound packet (RFC 4303 §2, RFC 4106 §3.1).
    static let headroom = 16
    /// Padding (≤ 3), Pad Length, Next Header and ICV (16) after it.
    static let tailroom = 3 + 2 + 16
}
