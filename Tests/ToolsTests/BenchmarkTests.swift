import CryptoCore
import IKEv2
import KernelModel
import Testing
@testable import Tools

/// The benchmarks measure what they say (counts and outcomes, never times).
struct BenchmarkTests {
    @Test func planBenchmarkLoadsAndPlansTheWholeMesh() throws {
        let report = try PlanBenchmark.measure(gateways: 5, runs: 2).get()
        #expect(report.tunnels == 10 && report.planned == 4)
        #expect(report.loadTimes.count == 2 && report.planTimes.count == 2)
        #expect(report.yamlBytes == PlanBenchmark.meshTopology(5).utf8.count)
    }

    @Test(arguments: [EncryptionAlgorithm.aesGCM16(keyBits: 128), .chacha20Poly1305])
    func espBenchmarkRoundTripsExactlyTheCount(_ algorithm: EncryptionAlgorithm) throws {
        var bench = try ESPBenchmark(algorithm: algorithm, size: 1400)
        #expect(try bench.measure(seconds: 0, packets: 3).packets == 3)
    }

    @Test func admissionBenchmarkAnswersEveryRequestWithACookieThenAdmitsIt() throws {
        let proposal = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.ecp384])
        let r = try AdmissionBenchmark.measure(count: 32, proposal: proposal, group: .ecp384)
        #expect(r.requests == 32 && r.cookiesSent == 32 && r.admitted == 32)
        #expect(r.sourcesRemembered == 16 && r.keyExchanges == 1)
    }

    @Test func applyBenchmarkDesiresOneInterfaceAddressAndRoutePerSpoke() throws {
        let userspace = try ApplyBenchmark.desired(peers: 3, shape: .userspace)
        let kernel = try ApplyBenchmark.desired(peers: 3, shape: .kernel)
        #expect(userspace.links.count == 3 && userspace.addresses.count == 3 && userspace.routes.count == 3)
        // The userspace shape carries the kernel shape's route-based policies, so every kind is counted.
        #expect(!userspace.policies.isEmpty && userspace.policies == kernel.policies)
    }

    @Test func dataplaneBenchmarkReadsIperf3JSON() {
        let json = #"{"end": {"sum_sent": {"retransmits": 14}, "sum_received": {"bits_per_second": 1.5e9}}}"#
        #expect(DataplaneBenchmark.retransmits(json) == 14)
        #expect(DataplaneBenchmark.receivedBitsPerSecond(json) == 1.5e9)
        #expect(DataplaneBenchmark.retransmits("not json") == nil && DataplaneBenchmark.receivedBitsPerSecond("{}") == 0)
    }
}
