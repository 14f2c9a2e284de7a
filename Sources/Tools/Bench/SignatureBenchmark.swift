import ViaductCrypto
import CryptoCore
import Foundation
import PKI

/// Sign and verify rates per signature algorithm (`viaduct bench signatures`), and `openssl
/// speed`'s for the same algorithms.
public enum SignatureBenchmark {
    /// One algorithm's per-operation costs.
    public struct Result: Sendable {
        public var name: String
        public var signOpsPerSecond: Double
        public var verifyOpsPerSecond: Double
        public var signMicros: Double { signOpsPerSecond > 0 ? 1e6 / signOpsPerSecond : 0 }
        public var verifyMicros: Double { verifyOpsPerSecond > 0 ? 1e6 / verifyOpsPerSecond : 0 }
        /// `openssl speed` sign/s and verify/s for the same primitive, when available.
        public var opensslSign: Double?
        public var opensslVerify: Double?
    }

    /// The algorithms measured, with the key type and scheme, and `openssl speed`'s name/label.
    public static let algorithms: [(name: String, key: KeyType, scheme: SignatureScheme, speedArg: String, speedLabel: String)] = [
        ("ECDSA P-256 / SHA-256", .ecdsaP256, .ecdsaSHA256, "ecdsap256", "(nistp256)"),
        ("ECDSA P-384 / SHA-384", .ecdsaP384, .ecdsaSHA384, "ecdsap384", "(nistp384)"),
        ("RSA-3072 PKCS#1 / SHA-256", .rsa3072, .rsaPKCS1SHA256, "rsa3072", "rsa 3072 bits"),
        ("RSA-3072 PSS / SHA-256", .rsa3072, .rsaPSSSHA256, "rsa3072", "rsa 3072 bits"),
        ("Ed25519", .ed25519, .ed25519, "ed25519", "(Ed25519)"),
    ]

    /// Computes sign/verify operations per second for every algorithm, spending about
    /// `seconds` on each measurement. Public so tests and other benches can reuse it.
    public static func measure(seconds: Double) throws -> [Result] {
        let message = [UInt8](repeating: 0xA5, count: 64)
        var out: [Result] = []
        for alg in algorithms {
            let key = try PrivateKey.generate(alg.key)
            let pub = try key.publicKey
            let sig = try Signature.sign(message, with: key, scheme: alg.scheme)
            let signRate = try rate(seconds: seconds) { _ = try Signature.sign(message, with: key, scheme: alg.scheme) }
            let verifyRate = try rate(seconds: seconds) {
                guard try Signature.verify(sig, for: message, publicKey: pub, scheme: alg.scheme) else {
                    throw CryptoError(.authenticationFailed, "\(alg.name): benchmark signature did not verify")
                }
            }
            out.append(Result(name: alg.name, signOpsPerSecond: signRate, verifyOpsPerSecond: verifyRate))
        }
        return out
    }

    /// Operations per second of `op`, run in growing batches until `seconds` have elapsed.
    static func rate(seconds: Double, _ op: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        var batch = 1
        while true {
            for _ in 0..<batch { try op() }
            count += batch
            let elapsed = Self.seconds(clock.now - start)
            if elapsed >= seconds { return Double(count) / elapsed }
            batch = min(batch * 2, 1024)
        }
    }

    static func seconds(_ d: Swift.Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs `openssl speed` and extracts sign/s, verify/s for each label; empty when unavailable.
    public static func opensslSpeed(seconds: Int) -> [String: (Double, Double)] {
        let path = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { return [:] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["speed", "-seconds", String(max(1, seconds))] + Array(Set(algorithms.map(\.speedArg))).sorted()
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return [:] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var result: [String: (Double, Double)] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            for alg in algorithms where line.contains(alg.speedLabel) && !line.contains("Doing") {
                let numbers = line.split(separator: " ").compactMap { Double($0) }
                if numbers.count >= 2 { result[alg.speedLabel] = (numbers[numbers.count - 2], numbers[numbers.count - 1]) }
            }
        }
        return result
    }
}
