import ArgumentParser
import ViaductCrypto
import CryptoCore
import Foundation
import Tools

/// `viaduct bench crypto`: what each primitive costs on this machine, next to OpenSSL's own
/// `openssl speed` figure for the same operation, so the overhead of the Swift layer (context
/// reuse, in-place buffers, typed errors) is visible rather than assumed. Prints figures only;
/// nothing here asserts on timing.
struct BenchCrypto: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Measure DH, HMAC and AEAD costs and compare AEAD throughput with `openssl speed`.")

    @Option(help: "Seconds to spend on each measurement.")
    var seconds: Double = 0.5

    @Flag(help: "Skip running `openssl speed` for comparison.")
    var noOpenSSL = false

    @Option(help: ArgumentHelp("Only run exactly this many AES-256-GCM seals of --size bytes, then exit: for counting instructions with callgrind (Benchmarks/aead-overhead.sh).", visibility: .hidden))
    var sealCount: Int?

    @Option(help: ArgumentHelp("Packet size for --seal-count.", visibility: .hidden))
    var size = 1400

    func run() throws {
        let bench = CryptoBenchmark(seconds: seconds)
        if let sealCount {
            guard sealCount >= 0, (1...65_536).contains(size) else { throw ValidationError("--seal-count >= 0, --size 1...65536") }
            let tag = try bench.sealExactly(count: sealCount, size: size)
            print("sealed \(sealCount) x \(size) bytes; tag byte \(tag)")
            return
        }
        print("Key exchange (keygen + derive, per exchange):")
        for group in KeyExchangeGroup.allCases {
            let cost = try bench.keyExchange(group)
            print("  group \(pad(String(group.rawValue), 3)) \(pad(String(describing: group), 11)) \(String(format: "%9.3f ms", cost * 1000))")
        }

        print("PRF (one HMAC over 64 bytes, re-keyed each call, as prf+ does):")
        for algorithm in [PRFAlgorithm.hmacSHA256, .hmacSHA384, .hmacSHA512] {
            let cost = try bench.prf(algorithm)
            print("  \(pad(String(describing: algorithm), 11)) \(String(format: "%9.3f µs", cost * 1e6))")
        }

        print("Integrity (keyed once, 1400-byte packets):")
        for algorithm in [IntegrityAlgorithm.hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256] {
            let gbps = try bench.integrity(algorithm, size: 1400)
            print("  \(pad(String(describing: algorithm), 15)) \(String(format: "%7.2f Gbit/s", gbps))")
        }

        print("AEAD seal (in place, context reused; `openssl speed -aead -evp` for the same size):")
        let aeads: [(EncryptionAlgorithm, String)] = [
            (.aesGCM16(keyBits: 128), "aes-128-gcm"), (.aesGCM16(keyBits: 256), "aes-256-gcm"),
            (.chacha20Poly1305, "chacha20-poly1305"),
        ]
        print("  \(pad("cipher", 18)) \(pad("bytes", 6)) \(pad("viaduct", 14)) \(pad("openssl", 14)) overhead")
        for (algorithm, name) in aeads {
            for size in [64, 1400, 9000] {
                let ours = try bench.aead(algorithm, size: size)
                var line = "  \(pad(name, 18)) \(pad(String(size), 6)) \(pad(String(format: "%7.2f Gbit/s", ours), 14))"
                if !noOpenSSL, let theirs = bench.opensslSpeed(cipher: name, size: size) {
                    let overhead = (theirs - ours) / theirs * 100
                    line += " \(pad(String(format: "%7.2f Gbit/s", theirs), 14)) \(String(format: "%6.1f %%", overhead))"
                } else {
                    line += " \(pad("n/a", 14)) n/a"
                }
                print(line)
            }
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
