import ArgumentParser
import Crypto
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
        let proposal = IKEAlgorithmSet(encryption: p.encryption, integrity: p.integrity, prf: p.prf, groups: p.keyExchange)
        let n = max(1, count)
        var template = try FloodRequestTemplate(proposal: proposal)
        var random = SeededRandomSource(seed: 9)
        let responder = IKEEndpoint(address: [192, 0, 2, 1], port: 500)
        let requests = (0..<n).map { i in
            IKEDatagram(bytes: template.next(random: &random),
                        source: IKEEndpoint(address: [203, 0, 113, UInt8(truncatingIfNeeded: i % 16 + 1)], port: 500),
                        destination: responder)
        }
        let provider = OpenSSLCryptoProvider()
        let policy = IKEAdmissionPolicy(cookieThreshold: 0, maxHalfOpen: Int.max, maxHalfOpenPerSource: Int.max,
                                        verifiedRate: IKERate(perSecond: 1e9, burst: 1e9),
                                        cookieReplyRate: IKERate(perSecond: 1e9, burst: 1e9))
        var gate = IKEAdmissionGate(policy: policy, prf: try provider.makePRF(.hmacSHA256), random: OpenSSLRandomSource())
        let clock = ContinuousClock()
        let now = IKEInstant(nanoseconds: 1)
        var answers: [IKEDatagram] = []
        answers.reserveCapacity(n)
        let cookieTime = clock.measure {
            for r in requests { if case .respond(let d) = gate.admit(r, sessions: 0, now: now) { answers.append(d) } }
        }
        // The same requests, each carrying the cookie it was given: verification, then admission.
        let returned = try zip(requests, answers).map { r, a in
            let cookie = try IKEMessage(decoding: a.bytes).notifies.first { $0.type == .cookie }?.data ?? []
            var m = try IKEMessage(decoding: r.bytes)
            m.payloads.insert(.notify(IKENotify(type: .cookie, data: cookie)), at: 0)
            return IKEDatagram(bytes: try m.encoded(), source: r.source, destination: r.destination)
        }
        var verifyGate = gate
        var admitted = 0
        let verifyTime = clock.measure {
            for r in returned { if case .admit(let t) = verifyGate.admit(r, sessions: 0, now: now) { admitted += 1; verifyGate.release(t) } }
        }
        let dhCount = max(1, n / 100)
        var dhRandom = OpenSSLRandomSource()
        let peer = try provider.makeKeyExchange(group, random: &dhRandom).publicValue
        let dhTime = try clock.measure {
            for _ in 0..<dhCount {
                let ke = try provider.makeKeyExchange(group, random: &dhRandom)
                _ = try ke.sharedSecret(peerPublicValue: peer)
            }
        }
        func micros(_ d: Duration, _ k: Int) -> Double {
            (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(k)
        }
        let c = micros(cookieTime, n), v = micros(verifyTime, n), dh = micros(dhTime, dhCount)
        print("admission gate, \(n) IKE_SA_INIT requests (\(ike)), from 16 sources:")
        print(String(format: "  COOKIE answer (decode, HMAC-SHA-256, encode):   %7.2f µs each, %8.0f/s on one core", c, 1e6 / c))
        print(String(format: "  valid cookie verified and admitted (%d):    %7.2f µs each, %8.0f/s", admitted, v, 1e6 / v))
        print(String(format: "  %@ key pair + shared secret (%d):        %7.2f µs each, %8.0f/s: what each admitted request costs at least",
                     IKEProposalText.word(group), dhCount, dh, 1e6 / dh))
        print("  gate: \(gate.counters.cookiesSent) cookies sent, \(gate.counters.sources) sources remembered")
    }
}
