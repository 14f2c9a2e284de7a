import ESP
import NetTypes

/// One SA direction's counters as last published by the worker that owns the SA.
struct SAReport: Sendable, Hashable {
    var statistics: ESPStatistics
    var lifetime: ESPLifetimeState
    var sequenceNumber: UInt64 = 0
}

/// The counters the workers publish after each batch (one uncontended lock per batch) and the
/// control plane reads for `counters` and `statistics`: the daemon never touches a live SA.
struct PublishedCounters: Sendable {
    var inbound: [ESPSPI: SAReport] = [:]
    var outbound: [ESPSPI: SAReport] = [:]
    var inboundWide = DataplaneStatistics()
    var outboundWide = DataplaneStatistics()
}
