@testable import Daemon
import IKEv2
import Logging
import TestSupport
import Testing
import Topology

/// The daemon offers and accepts only the ESP transforms its data plane can install
/// (issue 15, defect 2: a CBC Child SA was negotiated that the userspace plane could not carry).
@Suite struct ESPProposalFilterTests {
    static func plan(dataplane: String, esp: String) throws -> NodePlan {
        let yaml = """
        version: 1
        pki: { ca: ca.pem }
        defaults: { dataplane: \(dataplane) }
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key }
          b: { address: 192.0.2.2, identity: 192.0.2.2, managed: false }
        tunnels:
          - between: [a, b]
            inside: 169.254.10.0/30
            allow-weak-crypto: true
            esp: { proposals: [\(esp)] }
        """
        let l = TopologyLoader.load(yaml: yaml, file: "t.yaml")
        let t = try #require(l.topology)
        return try NodePlanner.plan(t, links: l.links, node: "a", fileExists: { _ in true }).get()
    }

    static func configuration(_ plan: NodePlan, _ dataplane: DataplaneKind, initiator: Bool = true) throws(DaemonError) -> IKEPeerConfiguration {
        try PeerConfigurationMapper.configuration(for: plan.tunnels[0], ports: .standard,
                                                  wallClock: IKEWallClock(epochSecondsAtInstantZero: 0),
                                                  initiator: initiator, dataplane: dataplane)
    }

    @Test func theUserspacePlaneOffersOnlyWhatItCarries() throws {
        let plan = try Self.plan(dataplane: "auto", esp: "aes256-3des-sha256-sha1-modp3072, 3des-md5, aes256gcm16")
        let user = try Self.configuration(plan, .userspace)
        #expect(user.espProposals == [
            ESPAlgorithmSet(encryption: [.aesCBC(keyBits: 256)], integrity: [.hmacSHA256_128], groups: [.modp3072]),
            ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)]),
        ])
        let kernel = try Self.configuration(plan, .kernel)
        #expect(kernel.espProposals.count == 3)
        #expect(kernel.espProposals[0].encryption == [.aesCBC(keyBits: 256), .tripleDES])

        let log = LogCapture()
        PeerConfigurationMapper.logUncarried(plan: plan, dataplane: .userspace, logger: log.logger())
        let line = try #require(log.lines.first { $0.contains("ESP transforms the data plane cannot carry") })
        #expect(line.contains("dataplane=userspace") && line.contains("3des") && line.contains("NO_PROPOSAL_CHOSEN"))
        let quiet = LogCapture()
        PeerConfigurationMapper.logUncarried(plan: plan, dataplane: .kernel, logger: quiet.logger())
        #expect(quiet.lines.isEmpty)
    }

    /// An initiator has nothing to offer: no session, and the reason. A responder still answers,
    /// with no ESP proposal of its own, so the peer gets NO_PROPOSAL_CHOSEN in IKE_AUTH
    /// (EngineFailureTests.responderWithNoESPProposal) instead of silence.
    @Test func aTunnelWithNothingTheUserspacePlaneCarriesGetsNoSessionAndSaysWhy() throws {
        let plan = try Self.plan(dataplane: "auto", esp: "3des-sha256")
        let error = try #require(Self.failure(plan))
        #expect(error.message.contains("no ESP proposal the userspace data plane can carry in [3des-sha256]"))
        #expect(error.message.contains("does not carry 3des"))
        let responder = try Self.configuration(plan, .userspace, initiator: false)
        #expect(responder.espProposals.isEmpty)
        #expect(!responder.ikeProposals.isEmpty)
    }

    static func failure(_ plan: NodePlan) -> DaemonError? {
        do {
            _ = try configuration(plan, .userspace)
            return nil
        } catch {
            return error
        }
    }
}
