import ViaductCrypto
import CryptoCore
import Foundation

/// What each primitive costs on this machine (`viaduct bench crypto`), each measured for about
/// `seconds`, and `openssl speed`'s figure for the same AEAD operation.
public struct CryptoBenchmark {
    public var seconds: Double
    let provider = OpenSSLCryptoProvider()

    public init(seconds: Double) { self.seconds = seconds }

    /// Runs `body` repeatedly for about `seconds`; returns seconds per call.
    func timePerCall(_ body: () throws -> Void) rethrows -> Double {
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

    /// Seconds per key exchange (key pair + shared secret) of `group`.
    public func keyExchange(_ group: KeyExchangeGroup) throws -> Double {
        var random = OpenSSLRandomSource()
        let peer = try provider.makeKeyExchange(group, random: &random).publicValue
        return try timePerCall {
            let ke = try provider.makeKeyExchange(group, random: &random)
            _ = try ke.sharedSecret(peerPublicValue: peer)
        }
    }

    /// Seconds per PRF call over 64 bytes, re-keyed each call.
    public func prf(_ algorithm: PRFAlgorithm) throws -> Double {
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

    /// Gbit/s of an integrity MAC keyed once over `size`-byte packets.
    public func integrity(_ algorithm: IntegrityAlgorithm, size: Int) throws -> Double {
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
    /// Returns a byte of the last tag, so the work cannot be optimised away.
    public func sealExactly(count: Int, size: Int) throws -> UInt8 {
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
        return buffer[size]
    }

    /// Gbit/s of in-place AEAD seals of `size` bytes, context reused.
    public func aead(_ algorithm: EncryptionAlgorithm, size: Int) throws -> Double {
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
    public func opensslSpeed(cipher: String, size: Int) -> Double? {
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
