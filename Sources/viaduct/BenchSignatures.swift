import ArgumentParser
import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import Tools

/// `viaduct bench signatures`: what one IKE_AUTH costs in signature operations per algorithm,
/// beside `openssl speed` for the same primitives so a slow binding (rather than a slow
/// algorithm) shows up. Each IKE_SA setup costs one sign and one (or more, with chains) verify
/// per side.
struct BenchSignatures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signatures",
        abstract: "Measure sign/verify cost per signature algorithm (vs. openssl speed).",
        discussion: """
        Measures ECDSA P-256/P-384, RSA-3072 (PKCS#1 v1.5 and PSS) and Ed25519 through \
        Viaduct's Signature API on a 64-byte message (roughly an IKE AUTH's signed octets \
        hash input) and, when the openssl binary is installed, runs 'openssl speed' for \
        ecdsap256, ecdsap384, rsa3072 and ed25519 for comparison.
        """)

    @Option(help: "Seconds to spend per measurement.") var seconds: Double = 0.5
    @Flag(help: "Skip the openssl speed comparison.") var noOpenssl = false


    func run() throws {
        do {
            var results = try SignatureBenchmark.measure(seconds: seconds)
            let speed = noOpenssl ? [:] : SignatureBenchmark.opensslSpeed(seconds: Int(seconds.rounded(.up)))
            for i in results.indices {
                if let s = speed[SignatureBenchmark.algorithms[i].speedLabel] {
                    results[i].opensslSign = s.0
                    results[i].opensslVerify = s.1
                }
            }
            func col(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
            func num(_ d: Double?, _ f: String) -> String { d.map { String(format: f, $0) } ?? "-" }
            print("algorithm".padding(toLength: 27, withPad: " ", startingAt: 0)
                  + col("sign/s", 10) + col("µs/sign", 10) + col("verify/s", 10) + col("µs/verify", 11)
                  + col("openssl sign/s", 16) + col("verify/s", 10))
            for r in results {
                print(r.name.padding(toLength: 27, withPad: " ", startingAt: 0)
                      + col(num(r.signOpsPerSecond, "%.0f"), 10) + col(num(r.signMicros, "%.1f"), 10)
                      + col(num(r.verifyOpsPerSecond, "%.0f"), 10) + col(num(r.verifyMicros, "%.1f"), 11)
                      + col(num(r.opensslSign, "%.0f"), 16) + col(num(r.opensslVerify, "%.0f"), 10))
            }
            if speed.isEmpty && !noOpenssl { print("(openssl binary not found: no comparison)") }
            print("openssl speed signs a precomputed digest (RSA: raw PKCS#1 without hashing); Viaduct hashes the message too.")
        } catch let e as CryptoError {
            FileHandle.standardError.write(Data("viaduct: error: \(e.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
