import ViaductCrypto
import CryptoCore
@testable import Daemon
import IKEv2
import Testing
@testable import Tools

/// The flood generator's requests are well-formed and fresh, and its bounds hold before any
/// packet is sent (no socket is opened here).
struct FloodGeneratorTests {
    static let proposal = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.ecp384])

    @Test func requestsAreWellFormedWithFreshSPIsAndNonces() throws {
        var template = try FloodRequestTemplate(proposal: Self.proposal)
        var random = SeededRandomSource(seed: 3)
        let a = try IKEMessage(decoding: template.next(random: &random))
        let b = try IKEMessage(decoding: template.next(random: &random))
        for m in [a, b] {
            #expect(m.header.exchangeType == .ikeSAInit && m.header.flags.contains(.initiator))
            #expect(m.header.responderSPI.isZero && !m.header.initiatorSPI.isZero)
            #expect(m.payloads.contains { if case .keyExchange(let k) = $0 { k.group == 20 && k.data.count == 96 } else { false } })
        }
        func nonce(_ m: IKEMessage) -> [UInt8]? { m.payloads.compactMap { if case .nonce(let n) = $0 { n.data } else { nil } }.first }
        #expect(a.header.initiatorSPI != b.header.initiatorSPI)
        #expect(nonce(a)?.count == 32 && nonce(a) != nonce(b))
        // The engine's own responder logic accepts it: a gate sees a valid IKE_SA_INIT request.
        var gate = IKEAdmissionGate(policy: IKEAdmissionPolicy(), prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256),
                                    random: SeededRandomSource(seed: 1))
        let d = IKEDatagram(bytes: try a.encoded(), source: IKEEndpoint(address: [203, 0, 113, 7], port: 500),
                            destination: IKEEndpoint(address: [192, 0, 2, 1], port: 500))
        if case .drop(let reason) = gate.admit(d, sessions: 0, now: IKEInstant(nanoseconds: 0)) {
            Issue.record("gate dropped the flood's request: \(reason)")
        }
    }

    @Test func boundsAndAddressesAreCheckedUpFront() {
        func plan(target: [UInt8] = [192, 0, 2, 1], sources: [[UInt8]] = [[203, 0, 113, 1]], rate: Double = 100,
                  seconds: Double = 1) -> FloodGenerator.Plan {
            FloodGenerator.Plan(target: IKEEndpoint(address: target, port: 500), sources: sources,
                                packetsPerSecond: rate, seconds: seconds, seed: 1)
        }
        let refused: [FloodGenerator.Plan] = [
            plan(target: [8, 8, 8, 8]), plan(sources: [[10, 0, 0, 1]]), plan(sources: []),
            plan(rate: 0), plan(rate: 1_000_000), plan(seconds: 0), plan(seconds: 3600),
        ]
        for p in refused {
            #expect(throws: DaemonError.self) { _ = try FloodGenerator(plan: p, proposal: Self.proposal) }
        }
        #expect(throws: Never.self) { _ = try FloodGenerator(plan: plan(), proposal: Self.proposal) }
        #expect(FloodGenerator.isDocumentationAddress([198, 51, 100, 200]) && !FloodGenerator.isDocumentationAddress([198, 51, 101, 1]))
    }

    /// `--source` and `--impersonate` of `viaduct bench flood`: an address, or a prefix of /16
    /// or longer, expanded.
    @Test func sourcesAreAnAddressOrEveryAddressOfAPrefix() throws {
        #expect(try FloodGenerator.addresses("192.0.2.7") == [[192, 0, 2, 7]])
        let prefix = try FloodGenerator.addresses("203.0.113.128/30")
        #expect(prefix == [[203, 0, 113, 128], [203, 0, 113, 129], [203, 0, 113, 130], [203, 0, 113, 131]])
        #expect(try FloodGenerator.addresses("198.51.0.0/16").count == 65_536)
        for bad in ["203.0.0.0/8", "2001:db8::1", "nonsense"] {
            #expect {
                _ = try FloodGenerator.addresses(bad)
            } throws: { ($0 as? DaemonError)?.message.contains("is not an IPv4 address or a prefix of /16 or longer") == true }
        }
    }
}
