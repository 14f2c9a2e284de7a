import ViaductCrypto
@testable import Daemon
import Dispatch
import Synchronization
import Testing
@testable import Tools
import Topology

/// The benchmark's in-memory handshake must really complete (both sides reach a Child SA), or
/// `viaduct bench handshake` would time failures.
struct HandshakeBenchmarkTests {
    @Test(arguments: ["aes256gcm16-prfsha384-ecp384", "aes256-sha256-modp3072"])
    func inProcessHandshakeCompletes(_ ike: String) throws {
        guard case .success(let ikeP) = ProposalSyntax.parse(ike, kind: .ike),
              case .success(let espP) = ProposalSyntax.parse("aes256gcm16", kind: .esp) else {
            Issue.record("proposal did not parse")
            return
        }
        let bench = try HandshakeBenchmark(keyType: .ecdsaP256, ikeProposal: ikeP, espProposal: espP, epochNow: 1_749_945_600)
        try bench.run()
    }

    @Test func authenticationFailureIsReportedNotHung() throws {
        guard case .success(let ikeP) = ProposalSyntax.parse("aes256gcm16-prfsha384-ecp384", kind: .ike),
              case .success(let espP) = ProposalSyntax.parse("aes256gcm16", kind: .esp) else {
            Issue.record("proposal did not parse")
            return
        }
        var bench = try HandshakeBenchmark(keyType: .ecdsaP256, ikeProposal: ikeP, espProposal: espP, epochNow: 1_749_945_600)
        // The engine validates certificates at its wall clock: two days later they have expired.
        bench.shiftWallClock(bySeconds: 2 * 86_400)
        #expect(throws: (any Error).self) { try bench.run() }
    }

    /// `viaduct bench handshake --threads 2` runs setups on two threads at once, sharing one
    /// authenticator per side (credentials, parsed certificates, trust store): every setup on
    /// both threads must complete, and a failure on either must surface.
    @Test func concurrentHandshakesShareCredentials() throws {
        guard case .success(let ikeP) = ProposalSyntax.parse("aes256gcm16-prfsha256-ecp256", kind: .ike),
              case .success(let espP) = ProposalSyntax.parse("aes256gcm16", kind: .esp) else {
            Issue.record("proposal did not parse")
            return
        }
        let bench = try HandshakeBenchmark(keyType: .ecdsaP256, ikeProposal: ikeP, espProposal: espP, epochNow: 1_749_945_600)
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            var completed = 0
            var failure: String? = nil
            for _ in 0..<25 {
                do { try bench.run(); completed += 1 } catch { failure = "\(error)"; break }
            }
            let line = failure.map { "thread \(thread): \($0)" } ?? "thread \(thread): \(completed)"
            outcomes.withLock { $0.append(line) }
        }
        #expect(outcomes.withLock { $0.sorted() } == ["thread 0: 25", "thread 1: 25"])
    }
}
