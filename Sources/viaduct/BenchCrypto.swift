import ArgumentParser
import Crypto
import CryptoCore
import Foundation

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
        let provider = OpenSSLCryptoProvider()
        if let sealCount {
            guard sealCount >= 0, (1...65_536).contains(size) else { throw ValidationError("--seal-count >= 0, --size 1...65536") }
            try sealExactly(provider, count: sealCount, size: size)
            return
        }
        print("Key exchange (keygen + derive, per exchange):")
        for group in KeyExchangeGroup.allCases {
            let cost = try measureKeyExchange(provider, group)
            print("  group \(pad(String(group.rawValue), 3)) \(pad(String(describing: group), 11)) \(String(format: "%9.3f ms", cost * 1000))")
        }

        print("PRF (one HMAC over 64 bytes, re-keyed each call, as prf+ does):")
        for algorithm in [PRFAlgorithm.hmacSHA256, .hmacSHA384, .hmacSHA512] {
            let cost = try measurePRF(provider, algorithm)
            print("  \(pad(String(describing: algorithm), 11)) \(String(format: "%9.3f µs", cost * 1e6))")
        }

        print("Integrity (keyed once, 1400-byte packets):")
        for algorithm in [IntegrityAlgorithm.hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256] {
            let gbps = try measureIntegrity(provider, algorithm, size: 1400)
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
                let ours = try measureAEAD(provider, algorithm, size: size)
                var line = "  \(pad(name, 18)) \(pad(String(size), 6)) \(pad(String(format: "%7.2f Gbit/s", ours), 14))"
                if !noOpenSSL, let theirs = opensslSpeed(cipher: name, size: size) {
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

    /// Runs `body` repeatedly for about `seconds`; returns seconds per call.
    private func timePerCall(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        try body()   // warm-up: first-use fetches and allocations are not the steady state
        var calls = 0
        let start = clock.now
        let budget = Swift.Duration.milliseconds(Int64(seconds * 1000))
        while clock.now - start < budget {
            for _ in 0..<8 { try body() }
            calls += 8
        }
        let elapsed = clock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(calls)
    }

    private func measureKeyExchange(_ provider: OpenSSLCryptoProvider, _ group: KeyExchangeGroup) throws -> Double {
        var random = OpenSSLRandomSource()
        let peer = try provider.makeKeyExchange(group, random: &random).publicValue
        return try timePerCall {
            let ke = try provider.makeKeyExchange(group, random: &random)
            _ = try ke.sharedSecret(peerPublicValue: peer)
        }
    }

    private func measurePRF(_ provider: OpenSSLCryptoProvider, _ algorithm: PRFAlgorithm) throws -> Double {
        let prf = try provider.makePRF(algorithm)
        let key = [UInt8](repeating: 0x11, count: algorithm.outputLength)
        let data = [UInt8](repeating: 0x22, count: 64)
        var out = [UInt8](repeating: 0, count: algorithm.outputLength)
        return try timePerCall {
            try key.withBytes { (k) throws(CryptoError) in
                try data.withBytes { (d) throws(CryptoError) in
                    try out.withMutableBytes { (o) throws(CryptoError) in try prf.compute(key: k, data: d, into: o) }
                }
            }
        }
    }

    private func measureIntegrity(_ provider: OpenSSLCryptoProvider, _ algorithm: IntegrityAlgorithm, size: Int) throws -> Double {
        let mac = try provider.makeIntegrity(algorithm, key: SecureBytes([UInt8](repeating: 0x33, count: algorithm.keyLength)))
        let packet = [UInt8](repeating: 0x44, count: size)
        var icv = [UInt8](repeating: 0, count: mac.icvLength)
        let perCall = try timePerCall {
            try packet.withBytes { (p) throws(CryptoError) in
                try icv.withMutableBytes { (i) throws(CryptoError) in try mac.computeICV(over: p, into: i) }
            }
        }
        return Double(size * 8) / perCall / 1e9
    }

    /// A fixed amount of work and nothing else, so that two runs with different counts give the
    /// instructions per seal by difference (start-up cancels out).
    private func sealExactly(_ provider: OpenSSLCryptoProvider, count: Int, size: Int) throws {
        let aead = try provider.makeAEAD(.aesGCM16(keyBits: 256), key: SecureBytes([UInt8](repeating: 0x55, count: 36)))
        var buffer = [UInt8](repeating: 0, count: size + aead.tagLength)
        var iv = [UInt8](repeating: 0, count: aead.ivLength)
        let aad = [UInt8](repeating: 0, count: 8)
        for i in 0..<count {
            iv[7] = UInt8(truncatingIfNeeded: i)
            try iv.withBytes { (v) throws(CryptoError) in
                try aad.withBytes { (a) throws(CryptoError) in
                    try buffer.withMutableBytes { (b) throws(CryptoError) in
                        _ = try aead.seal(iv: v, aad: a, buffer: b, plaintextCount: size)
                    }
                }
            }
        }
        print("sealed \(count) x \(size) bytes; tag byte \(buffer[size])")
    }

    private func measureAEAD(_ provider: OpenSSLCryptoProvider, _ algorithm: EncryptionAlgorithm, size: Int) throws -> Double {
        let aead = try provider.makeAEAD(algorithm, key: SecureBytes([UInt8](repeating: 0x55, count: algorithm.keyMaterialLength)))
        var buffer = [UInt8](repeating: 0x66, count: size + aead.tagLength)
        let iv = [UInt8](repeating: 0, count: aead.ivLength)
        let aad = [UInt8](repeating: 0, count: 8)
        let perCall = try timePerCall {
            try iv.withBytes { (i) throws(CryptoError) in
                try aad.withBytes { (a) throws(CryptoError) in
                    try buffer.withMutableBytes { (b) throws(CryptoError) in
                        _ = try aead.seal(iv: i, aad: a, buffer: b, plaintextCount: size)
                    }
                }
            }
        }
        return Double(size * 8) / perCall / 1e9
    }

    /// `openssl speed -elapsed -seconds 1 -bytes N -aead -evp <cipher>`, parsed from its last table row
    /// ("<cipher>  12345.67k", in thousands of bytes per second). Nil when the binary is missing
    /// or the output is not understood.
    private func opensslSpeed(cipher: String, size: Int) -> Double? {
        let candidates = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        let secondsArgument = String(max(1, Int(seconds.rounded(.up))))
        // -aead: init + AAD + update + final + tag per packet, the same sequence `seal` performs.
        process.arguments = ["speed", "-elapsed", "-seconds", secondsArgument, "-bytes", String(size), "-aead", "-evp", cipher]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n").reversed() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0].lowercased() == cipher.lowercased(),
                  let last = fields.last, last.hasSuffix("k"), let kilobytes = Double(last.dropLast()) else { continue }
            return kilobytes * 1000 * 8 / 1e9
        }
        return nil
    }
}
