import ArgumentParser
import ViaductCrypto
import CryptoCore
import Daemon
import IKEv2
import Tools
import Topology

/// `viaduct bench admission`: what the responder's admission gate costs per IKE_SA_INIT it
/// answers with a cookie, beside what an admitted request costs in Diffie-Hellman alone (the
/// work a cookie saves). Prints figures; asserts nothing.
struct BenchAdmission: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admission",
        abstract: "Measure the admission gate's cost per COOKIE answer vs one key exchange.",
        discussion: """
            Feeds COUNT distinct well-formed IKE_SA_INIT requests (the flood generator's) from \
            COUNT/16 sources to an admission gate that demands a cookie for every request \
            (decode, HMAC-SHA-256, encode the answer), then to one that verifies a valid cookie, \
            and times ECDH key pair + shared secret of the proposal's group: what an admitted \
            request costs at least. For repeatable figures run it under \
            'valgrind --tool=callgrind' and compare instruction counts.
            """)

    @Option(help: "Requests per measurement.") var count = 20_000
    @Option(help: "IKE proposal of the requests.") var ike = "aes256gcm16-prfsha384-ecp384"

    func run() throws {
        guard case .success(let p) = ProposalSyntax.parse(ike, kind: .ike), let group = p.keyExchange.first else {
            throw PKICLI.fail("bad IKE proposal '\(ike)'")
        }
        let proposal = IKEAlgorithmSet(proposal: p)
        let r = try AdmissionBenchmark.measure(count: count, proposal: proposal, group: group)
        let (n, c, v, dh) = (r.requests, r.cookieMicros, r.verifyMicros, r.keyExchangeMicros)
        print("admission gate, \(n) IKE_SA_INIT requests (\(ike)), from 16 sources:")
        print(String(format: "  COOKIE answer (decode, HMAC-SHA-256, encode):   %7.2f µs each, %8.0f/s on one core", c, 1e6 / c))
        print(String(format: "  valid cookie verified and admitted (%d):    %7.2f µs each, %8.0f/s", r.admitted, v, 1e6 / v))
        print(String(format: "  %@ key pair + shared secret (%d):        %7.2f µs each, %8.0f/s: what each admitted request costs at least",
                     IKEProposalText.word(group), r.keyExchanges, dh, 1e6 / dh))
        print("  gate: \(r.cookiesSent) cookies sent, \(r.sourcesRemembered) sources remembered")
    }
}
