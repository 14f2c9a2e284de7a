import ViaductCrypto
import CryptoCore
import ESP
import NetTypes

/// One `viaduct bench esp` case: an outbound and an inbound SA of one transform with the same key,
/// and one buffer, reused for every packet, holding an inner IPv4 packet of `size` bytes with
/// room for the ESP header and trailer.
public struct ESPBenchmark {
    let outbound: ESPOutboundSA
    let inbound: ESPInboundSA
    let size: Int
    var buffer: [UInt8]

    /// `integrity` nil: an AEAD; else AES-CBC with that HMAC (RFC 3602, RFC 4868), whose IVs
    /// come from OpenSSL's CSPRNG as in the data plane, so the figure includes drawing them.
    public init(algorithm: EncryptionAlgorithm, integrity: IntegrityAlgorithm? = nil, size: Int) throws {
        let provider = OpenSSLCryptoProvider()
        let key = SecureBytes([UInt8](repeating: 0x5A, count: algorithm.keyMaterialLength))
        if let integrity {
            let ikey = SecureBytes([UInt8](repeating: 0xA5, count: integrity.keyLength))
            outbound = try ESPOutboundSA(spi: ESPSPI(0x0000_1000), cipher: provider.makeCBC(algorithm, key: key),
                                         integrity: provider.makeIntegrity(integrity, key: ikey),
                                         extendedSequenceNumbers: true, random: OpenSSLRandomSource())
            inbound = try ESPInboundSA(spi: ESPSPI(0x0000_1000), cipher: provider.makeCBC(algorithm, key: key),
                                       integrity: provider.makeIntegrity(integrity, key: ikey), extendedSequenceNumbers: true)
        } else {
            outbound = try ESPOutboundSA(spi: ESPSPI(0x0000_1000), cipher: provider.makeAEAD(algorithm, key: key),
                                         extendedSequenceNumbers: true)
            inbound = try ESPInboundSA(spi: ESPSPI(0x0000_1000), cipher: provider.makeAEAD(algorithm, key: key),
                                       extendedSequenceNumbers: true)
        }
        self.size = size
        // [headroom | inner IPv4 packet | tailroom], the layout ESPOutboundSA documents.
        buffer = [UInt8](repeating: 0, count: outbound.headerLength + size + outbound.maximumTrailerLength)
        let start = outbound.headerLength
        buffer[start] = 0x45
        buffer[start + 2] = UInt8(size >> 8)
        buffer[start + 3] = UInt8(size & 0xff)
        buffer[start + 8] = 64
        buffer[start + 9] = 17
    }

    /// One round trip; throws if the packet did not come back whole and in place.
    /// Encapsulates the packet in place and decapsulates it again, which leaves it where it was.
    public mutating func roundTrip() throws {
        let packet = outbound.headerLength..<(outbound.headerLength + size)
        let (outbound, inbound) = (self.outbound, self.inbound)
        let result = try buffer.withMutableBytes { (b) throws(ESPError) -> ESPDecapsulated in
            let esp = try outbound.encapsulate(b, packet: packet)
            return try inbound.decapsulate(b, packet: esp)
        }
        guard result == .packet(packet, .ipv4) else {
            throw BenchmarkError("round trip returned \(result), expected the inner packet at \(packet)")
        }
    }

    /// Runs for `seconds` (or exactly `packets` round trips); returns the count and elapsed time.
    /// Exactly `packets` round trips, or as many as fit in about `seconds`, after one warm-up.
    public mutating func measure(seconds: Double, packets: Int?) throws -> (packets: Int, seconds: Double) {
        let clock = ContinuousClock()
        try roundTrip()   // warm-up: first-use lookups in the cipher are not the steady state
        var done = 0
        let start = clock.now
        if let packets {
            while done < packets {
                try roundTrip()
                done += 1
            }
        } else {
            let budget = Duration.milliseconds(Int64(seconds * 1000))
            while clock.now - start < budget {
                for _ in 0..<64 { try roundTrip() }
                done += 64
            }
        }
        let elapsed = clock.now - start
        return (done, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
