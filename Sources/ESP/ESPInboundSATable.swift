// RFC 4301 §5.2 / RFC 4303 §3.4.2: an inbound packet selects its SA by SPI; a packet whose SPI
// matches no SA is discarded and the event is auditable.
import NetTypes

/// The inbound SAD of the userspace data plane: SPI → SA, plus the counters for packets that
/// belong to no SA. During a rekey the old and new inbound SAs are both present (make-before-break)
/// until the daemon removes the old one.
public final class ESPInboundSATable {
    private var sas: [ESPSPI: ESPInboundSA] = [:]
    /// Drops that no SA could count: unknown SPI, or too short to carry one.
    public private(set) var statistics = ESPStatistics()

    public init() {}

    public var count: Int { sas.count }

    public subscript(spi: ESPSPI) -> ESPInboundSA? { sas[spi] }

    /// Adds `sa`, replacing any SA with the same SPI (the daemon allocated that SPI, so a second
    /// one is a bug it wants fixed, not two SAs competing).
    public func insert(_ sa: ESPInboundSA) {
        sas[sa.spi] = sa
    }

    @discardableResult
    public func remove(_ spi: ESPSPI) -> ESPInboundSA? {
        sas.removeValue(forKey: spi)
    }

    /// Finds the SA by SPI and decapsulates with it; counts the packet here when no SA has it.
    public func decapsulate(_ buffer: UnsafeMutableRawBufferPointer, packet: Range<Int>) throws(ESPError) -> ESPDecapsulated {
        guard packet.lowerBound >= 0, packet.upperBound <= buffer.count, packet.count >= 8 else {
            statistics.dropsMalformed &+= 1
            throw ESPError(.truncated, "shorter than an ESP header", value: max(packet.count, 0))
        }
        let b = UnsafeRawBufferPointer(rebasing: buffer[packet])
        let spi = ESPSPI(UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
        guard let sa = sas[spi] else {
            statistics.dropsUnknownSPI &+= 1
            throw ESPError(.unknownSPI, "no inbound SA has this SPI", value: Int(spi.rawValue))
        }
        return try sa.decapsulate(buffer, packet: packet)
    }
}
