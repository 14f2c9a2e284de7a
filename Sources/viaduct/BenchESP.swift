import ArgumentParser
import ViaductCrypto
import CryptoCore
import ESP
import Foundation
import NetTypes
import Tools

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

    @Option(parsing: .upToNextOption,
            help: "Transforms to measure, in proposal syntax (default: all): \(Self.transforms.map(\.name).joined(separator: ", ")).")
    var transforms: [String] = []

    /// The transforms the userspace data plane carries: the AEADs, then AES-CBC with HMAC-SHA-2.
    static let transforms: [(name: String, encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm?)] = [
        ("aes128gcm16", .aesGCM16(keyBits: 128), nil), ("aes256gcm16", .aesGCM16(keyBits: 256), nil),
        ("chacha20poly1305", .chacha20Poly1305, nil),
        ("aes128-sha256", .aesCBC(keyBits: 128), .hmacSHA256_128), ("aes256-sha256", .aesCBC(keyBits: 256), .hmacSHA256_128),
        ("aes256-sha384", .aesCBC(keyBits: 256), .hmacSHA384_192), ("aes256-sha512", .aesCBC(keyBits: 256), .hmacSHA512_256),
    ]

    func validate() throws {
        guard sizes.allSatisfy({ (20...65535).contains($0) }) else {
            throw ValidationError("sizes must be 20 ... 65535 bytes (an IPv4 packet)")
        }
        if let packets, packets < 1 { throw ValidationError("--packets must be at least 1") }
        for t in transforms where !Self.transforms.contains(where: { $0.name == t }) {
            throw ValidationError("unknown transform '\(t)'; use one of \(Self.transforms.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        let chosen = transforms.isEmpty ? Self.transforms : Self.transforms.filter { transforms.contains($0.name) }
        print("ESP encapsulate + decapsulate, in place, one core (inner IPv4 packet size; Gbit/s of inner packets):")
        print("  \(pad("transform", 18)) \(pad("bytes", 6)) \(pad("ns/packet", 11)) \(pad("Gbit/s", 8)) packets/s")
        for (name, algorithm, integrity) in chosen {
            for size in sizes {
                var bench = try ESPBenchmark(algorithm: algorithm, integrity: integrity, size: size)
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
