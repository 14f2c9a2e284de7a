import CryptoCore
import Testing
@testable import Topology

/// Which ESP transforms each data plane carries, and what `validate` says about a tunnel whose
/// proposals hold none its gateway's data plane can carry (issue 15, defect 2).
@Suite struct ESPTransformSupportTests {
    static func esp(_ text: String) throws -> Proposal { try ProposalSyntax.parse(text, kind: .esp).get() }

    @Test func theUserspacePlaneCarriesAEADsAndAESCBCWithSHA2Only() {
        let u = DataplaneKind.userspace
        #expect(u.refusal(encryption: .aesGCM16(keyBits: 256), integrity: nil) == nil)
        #expect(u.refusal(encryption: .chacha20Poly1305, integrity: nil) == nil)
        for bits in [128, 192, 256] {
            for i in [IntegrityAlgorithm.hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256] {
                #expect(u.refusal(encryption: .aesCBC(keyBits: bits), integrity: i) == nil)
            }
        }
        #expect(u.refusal(encryption: .aesCBC(keyBits: 256), integrity: .hmacSHA1_96)?.contains("not sha1") == true)
        #expect(u.refusal(encryption: .tripleDES, integrity: .hmacSHA256_128)?.contains("3des") == true)
        #expect(u.refusal(encryption: .aesCBC(keyBits: 128), integrity: nil) != nil)
        #expect(DataplaneKind.kernel.refusal(encryption: .tripleDES, integrity: .hmacMD5_96) == nil)
    }

    @Test func aProposalIsCutToWhatThePlaneCarriesAndSaysWhy() throws {
        let mixed = try Self.esp("aes256-3des-sha256-sha1-modp3072")
        let (kept, dropped) = DataplaneKind.userspace.carried(mixed)
        let k = try #require(kept)
        #expect(k.encryption == [.aesCBC(keyBits: 256)] && k.integrity == [.hmacSHA256_128] && k.keyExchange == [.modp3072])
        #expect(dropped.contains { $0.contains("3des") } && dropped.contains { $0.contains("sha1") })
        #expect(DataplaneKind.userspace.carried(try Self.esp("3des-sha1")).kept == nil)
        #expect(DataplaneKind.kernel.carried(mixed).kept == mixed)
        #expect(DataplaneKind.userspace.carried(try Self.esp("aes256-sha256-modp3072")).dropped.isEmpty)
    }

    static func topology(dataplane: String, esp: String) -> String {
        """
        version: 1
        pki: { ca: ca.pem }
        defaults: { dataplane: \(dataplane) }
        gateways:
          a: { address: 192.0.2.1, certificate: a.pem, key: a.key }
          b: { address: 192.0.2.2, certificate: b.pem, key: b.key }
        tunnels:
          - between: [a, b]
            inside: 169.254.10.0/30
            allow-weak-crypto: true
            esp: { proposals: [\(esp)] }
        """
    }

    @Test func validateRefusesAUserspaceTunnelWithNothingItCanCarryAndWarnsForAuto() throws {
        let refused = TopologyLoader.load(yaml: Self.topology(dataplane: "userspace", esp: "3des-sha256, aes128-sha1"), file: "t.yaml")
        let errors = refused.diagnostics.filter { $0.code == .unsupportedProposal }
        #expect(errors.count == 2 && errors.allSatisfy { $0.severity == .error })
        let first = try #require(errors.first)
        #expect(first.description.hasPrefix("t.yaml:8:18: error: tunnel a <-> b: esp.proposals [3des-sha256, aes128-sha1] hold nothing a's userspace data plane can carry"), "\(first)")
        #expect(!refused.isValid)

        let auto = TopologyLoader.load(yaml: Self.topology(dataplane: "auto", esp: "3des-sha256"), file: "t.yaml")
        #expect(auto.isValid)
        #expect(auto.diagnostics.filter { $0.code == .unsupportedProposal }.map(\.severity) == [.warning, .warning])

        for ok in [("userspace", "3des-sha256, aes256-sha256-modp3072"), ("kernel", "3des-sha256"), ("userspace", "aes256gcm16")] {
            let l = TopologyLoader.load(yaml: Self.topology(dataplane: ok.0, esp: ok.1), file: "t.yaml")
            #expect(l.isValid && !l.diagnostics.contains { $0.code == .unsupportedProposal }, "\(ok)")
        }
    }
}
