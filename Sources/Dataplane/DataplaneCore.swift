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

    /// ESP header and IV in front of every outbound packet (RFC 4303 §2): 8 + the IV, 8 bytes for
    /// the AEADs (RFC 4106 §3.1), 16 for AES-CBC (RFC 3602 §3).
    static let headroom = 8 + 16
    /// Padding (≤ 3 for the AEADs, ≤ 15 for AES-CBC's 16-byte blocks), Pad Length, Next Header and
    /// the ICV (16 for the AEADs, up to 32 for HMAC-SHA-512-256, RFC 4868) after it.
    static let tailroom = 15 + 2 + 32
}
