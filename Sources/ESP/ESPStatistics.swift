/// Per-SA counters, a plain value so that the daemon can copy them out for `status` and metrics
/// without locking the data path.
///
/// Bytes are inner IP packet bytes (what the tunnel carries, before ESP overhead and after TFC
/// trimming): that is what byte lifetimes (RFC 4301 §4.4.2.1) limit, and what operators compare with
/// the interface counters.
public struct ESPStatistics: Sendable, Hashable {
    public var packetsIn: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var packetsOut: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// Authenticated dummy packets (Next Header 59, RFC 4303 §2.6): dropped silently, not errors.
    public var dummyPacketsIn: UInt64 = 0

    public var dropsBadICV: UInt64 = 0
    public var dropsReplay: UInt64 = 0
    public var dropsMalformed: UInt64 = 0
    public var dropsPadding: UInt64 = 0
    public var dropsUnknownNextHeader: UInt64 = 0
    public var dropsUnknownSPI: UInt64 = 0
    public var dropsLifetimeExpired: UInt64 = 0
    public var dropsCryptoFailure: UInt64 = 0
    /// Outbound packets refused (exhausted sequence numbers, hard lifetime, bad buffer).
    public var sendErrors: UInt64 = 0

    public init() {}

    public subscript(reason: ESPDropReason) -> UInt64 {
        get {
            switch reason {
            case .badICV: dropsBadICV
            case .replay: dropsReplay
            case .malformed: dropsMalformed
            case .padding: dropsPadding
            case .unknownNextHeader: dropsUnknownNextHeader
            case .unknownSPI: dropsUnknownSPI
            case .lifetimeExpired: dropsLifetimeExpired
            case .cryptoFailure: dropsCryptoFailure
            }
        }
        set {
            switch reason {
            case .badICV: dropsBadICV = newValue
            case .replay: dropsReplay = newValue
            case .malformed: dropsMalformed = newValue
            case .padding: dropsPadding = newValue
            case .unknownNextHeader: dropsUnknownNextHeader = newValue
            case .unknownSPI: dropsUnknownSPI = newValue
            case .lifetimeExpired: dropsLifetimeExpired = newValue
            case .cryptoFailure: dropsCryptoFailure = newValue
            }
        }
    }

    /// Every inbound drop, whatever the reason (dummy packets are not drops).
    public var dropsTotal: UInt64 {
        ESPDropReason.allCases.reduce(0) { $0 &+ self[$1] }
    }

    mutating func countDrop(_ error: ESPError) {
        self[error.dropReason] &+= 1
    }
}
