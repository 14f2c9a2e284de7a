import ArgumentParser
import Crypto
import CryptoCore
import ESP
import Foundation
import NetTypes

/// `viaduct bench esp`: the cost of the userspace data plane's packet transform on one core.
///
/// Each iteration encapsulates an inner IPv4 packet in place (header into the headroom, padding,
/// trailer and ICV into the tailroom) and decapsulates the result in place again, which leaves the
/// inner packet where it started: one buffer per case, reused for every packet, so the loop
/// allocates nothing per packet (check with `--packets N` under `valgrind`: the allocation count
/// does not grow with N). The figure is one round trip, i.e. what one core spends on both ends
/// of a tunnel per packet; the sending or receiving side alone costs about half. Prints figures
/// only; nothing asserts on timing.
struct BenchESP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esp",
        abstract: "Measure ESP encapsulate+decapsulate throughput, in place, on one core.")

    @Option(help: "Seconds to spend on each measurement.")
    var seconds: Double = 0.5

    @Option(help: "Run exactly this many round trips per case instead of timing by --seconds.")
    var packets: Int?

    @Option(parsing: .upToNextOption, help: "Inner packet sizes in bytes (20 ... 65535).")
    var sizes: [Int] = [64, 1400, 9000]

    func validate() throws {
        guard sizes.allSatisfy({ (20...65535).contains($0) }) else {
            throw ValidationError("sizes must be 20 ... 65535 bytes (an IPv4 packet)")
        }
        if let packets, packets < 1 { throw ValidationError("--packets must be at least 1") }
    }

    func run() throws {
        let ciphers: [(EncryptionAlgorithm, String)] = [
            (.aesGCM16(keyBits: 128), "aes128gcm16"), (.aesGCM16(keyBits: 256), "aes256gcm16"),
            (.chacha20Poly1305, "chacha20poly1305"),
        ]
        print("ESP encapsulate + decapsulate, in place, one core (inner IPv4 packet size; Gbit/s of inner packets):")
        print("  \(pad("cipher", 18)) \(pad("bytes", 6)) \(pad("ns/packet", 11)) \(pad("Gbit/s", 8)) packets/s")
        for (algorithm, name) in ciphers {
            for size in sizes {
                var bench = try BenchESPCase(algorithm: algorithm, size: size)
                let result = try bench.measure(seconds: seconds, packets: packets)
                let ns = result.seconds / Double(result.packets) * 1e9
                let gbps = Double(size * 8) * Double(result.packets) / result.seconds / 1e9
                let pps = Double(result.packets) / result.seconds
                print("  \(pad(name, 18)) \(pad(String(size), 6)) \(pad(String(format: "%9.1f", ns), 11)) \(pad(String(format: "%6.2f", gbps), 8)) \(String(format: "%.0f", pps))")
            }
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}

/// One cipher and packet size: an SA pair on a fixed benchmark key and the one buffer they share.
struct BenchESPCase {
    let outbound: ESPOutboundSA
    let inbound: ESPInboundSA
    let size: Int
    var buffer: [UInt8]

    init(algorithm: EncryptionAlgorithm, size: Int) throws {
        let provider = OpenSSLCryptoProvider()
        let key = SecureBytes([UInt8](repeating: 0x5A, count: algorithm.keyMaterialLength))
        outbound = try ESPOutboundSA(spi: ESPSPI(0x0000_1000), cipher: provider.makeAEAD(algorithm, key: key),
                                     extendedSequenceNumbers: true)
        inbound = try ESPInboundSA(spi: ESPSPI(0x0000_1000), cipher: provider.makeAEAD(algorithm, key: key),
                                   extendedSequenceNumbers: true)
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
    mutating func roundTrip() throws {
        let packet = outbound.headerLength..<(outbound.headerLength + size)
        let (outbound, inbound) = (self.outbound, self.inbound)
        let result = try buffer.withMutableBytes { (b) throws(ESPError) -> ESPDecapsulated in
            let esp = try outbound.encapsulate(b, packet: packet)
            return try inbound.decapsulate(b, packet: esp)
        }
        guard result == .packet(packet, .ipv4) else {
            throw ValidationError("round trip returned \(result), expected the inner packet at \(packet)")
        }
    }

    /// Runs for `seconds` (or exactly `packets` round trips); returns the count and elapsed time.
    mutating func measure(seconds: Double, packets: Int?) throws -> (packets: Int, seconds: Double) {
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
