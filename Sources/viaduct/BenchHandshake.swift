import ArgumentParser
import ViaductCrypto
import Daemon
import Foundation
import PKI
import Synchronization
import Tools
import Topology

/// `viaduct bench handshake`: IKE_SA + first Child SA setups per second between two in-process
/// engines (no sockets) on one thread and on several, then through loopback sockets with the
/// responder and the initiators on two threads. Parses and prints; `Tools.HandshakeBenchmark` measures.
struct BenchHandshake: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake",
        abstract: "Measure IKE_SA + Child SA setups per second: in process, and through loopback sockets.",
        discussion: """
            1. In process, one thread: IKE_SA_INIT + IKE_AUTH (with the first Child SA) between an \
            initiator and a responder engine, datagrams handed across in memory: no sockets, no \
            kernel. Each setup pays BOTH sides' key exchange, signatures and certificate \
            validation on that one thread, so the figure is a floor for a real responder (which \
            does half the work). 2. The same with --threads threads each running setups back to \
            back (sharing the credentials and trust stores, as the daemon's sessions do). \
            3. Through real UDP sockets on 127.0.0.1 (ports 47500/47501): the responder on one \
            thread creating a session per IKE_SA_INIT as the daemon does, the initiators on \
            another: first one handshake at a time (the set-up time, from the initiator's first \
            IKE_SA_INIT to its Child SA), then --window in flight (the rate; time in flight then \
            includes queueing behind the window). strongSwan's figures on this machine are \
            printed alongside. --count runs exactly that many single-thread setups and nothing \
            else (for callgrind: instruction counts per setup are repeatable on a busy machine). \
            Every handshake checks the peer's chain validity at its time, key usage, identity and \
            AUTH signature. Without --crl, a validator reuses OpenSSL's verification of a chain it \
            has already accepted byte for byte (signatures, path), as strongSwan's cert_cache \
            does; with --crl (as with pki.crls in a topology) it runs the whole X509_verify_cert, \
            CRLs included, on every handshake (docs/pki.md).
            """)

    @Option(help: "Seconds to run per in-process configuration.") var seconds: Double = 2
    @Option(help: "Run exactly this many single-thread in-process setups and stop (for callgrind).") var count: Int?
    @Option(help: "ecdsa-p256 (default), ecdsa-p384, rsa3072, ...") var keyType = "ecdsa-p256"
    @Option(help: "IKE proposal (strongSwan syntax); the default matches strongSwan's figure.") var ike = "aes256gcm16-prfsha256-ecp256"
    @Option(help: "ESP proposal.") var esp = "aes256gcm16"
    @Option(help: "Threads for the concurrent in-process figure (1 skips it).") var threads = 2
    @Option(help: "Handshakes through loopback sockets (0 skips that figure).") var loopback = 4000
    @Option(help: "Handshakes in flight over loopback.") var window = 64
    @Flag(help: "Check revocation against a CRL of the CA (OpenSSL then validates every chain in full).") var crl = false

    func run() throws {
        guard let type = KeyType(rawValue: keyType.lowercased()) else { throw PKICLI.fail("unknown key type '\(keyType)'") }
        guard case .success(let ikeP) = ProposalSyntax.parse(ike, kind: .ike) else { throw PKICLI.fail("bad IKE proposal '\(ike)'") }
        guard case .success(let espP) = ProposalSyntax.parse(esp, kind: .esp) else { throw PKICLI.fail("bad ESP proposal '\(esp)'") }
        let bench = try HandshakeBenchmark(keyType: type, ikeProposal: ikeP, espProposal: espP,
                                           epochNow: Int64(Date().timeIntervalSince1970), withCRL: crl)
        try bench.run()  // warm-up, and fail early on an incompatible proposal
        if let count {
            for _ in 0..<max(0, count) { try bench.run() }
            print("\(count) in-process setups (\(keyType), \(ike), ESP \(esp))")
            return
        }
        let one = try bench.inProcess(threads: 1, seconds: seconds)
        print("in-process handshake (\(keyType), \(ike), ESP \(esp), \(crl ? "CRL checked" : "no CRL")):")
        print(String(format: "  1 thread:  %.0f setups/s (%d in %.2f s), median %.2f ms per setup (initiator + responder on one thread)",
                     one.rate, one.count, one.seconds, one.median * 1000))
        if threads > 1 {
            let many = try bench.inProcess(threads: threads, seconds: seconds)
            print(String(format: "  %d threads: %.0f setups/s (%d in %.2f s), median %.2f ms per setup",
                         threads, many.rate, many.count, many.seconds, many.median * 1000))
        }
        guard loopback > 0 else { return }
        // Set-up time as strongSwan's lab measured it (one tunnel at a time, not queued behind
        // others): one handshake in flight.
        let single = try bench.overLoopback(total: max(20, loopback / 20), window: 1)
        print(String(format: "over loopback UDP sockets, one at a time: setup time median %.2f ms, p90 %.2f ms (%d setups, %.0f/s)",
                     single.percentile(0.5) * 1000, single.percentile(0.9) * 1000, single.completed, single.rate))
        let r = try bench.overLoopback(total: loopback, window: max(1, window))
        print("over loopback UDP sockets, responder and initiators on two threads, \(window) in flight: \(r.completed) setups in \(String(format: "%.2f", r.seconds)) s")
        print(String(format: "  %.0f setups/s, time in flight median %.2f ms, p90 %.2f ms (queued behind the window), %d retransmissions",
                     r.rate, r.percentile(0.5) * 1000, r.percentile(0.9) * 1000, r.retransmissions))
        if r.completed > 0 {
            let responderMS = r.responderCPUSeconds * 1000 / Double(r.completed)
            let initiatorMS = r.initiatorCPUSeconds * 1000 / Double(r.completed)
            print(String(format: "  CPU per setup: responder %.3f ms (%.0f setups/s per responder core), initiator %.3f ms",
                         responderMS, responderMS > 0 ? 1000 / responderMS : 0, initiatorMS))
        }
        print("  strongSwan 5.9.8 on this machine (labs/strongswan): 515 IKE_SA/s into one charon at 64 in flight, responder CPU 1.7-2.3 ms per IKE_SA; 8.4 ms median set-up of one tunnel (ECDSA P-256, ecp256)")
    }
}
