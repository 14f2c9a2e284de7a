import CryptoCore
@testable import IKEv2
import NetTypes
import TestSupport
import Testing

/// Pieces of the engine checked on their own: NAT-D hashing, proposal text, narrowing, backoff.
struct EngineUnitTests {
    @Test("SHA-1 (for NAT-D, RFC 7296 §2.23) matches FIPS 180-4 test vectors")
    func sha1() {
        func hex(_ b: [UInt8]) -> String { b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
        #expect(hex(SHA1.digest(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.digest([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    @Test("Proposal text is strongSwan's syntax, unknown transforms by number")
    func proposalText() {
        #expect(Proposals.gcm256.description == "aes256gcm16-prfsha384-ecp384")
        #expect(Proposals.cbc256modp3072.description == "aes256-sha256-prfsha256-modp3072")
        let odd = IKEProposal(number: 1, protocolID: .ike, transforms: [
            IKETransform(type: 1, id: 23), IKETransform(.prf(.hmacSHA1)), IKETransform(type: 4, id: 30),
        ])
        #expect(IKEProposalText.format(odd) == "ENCR_23-prfsha1-KE_30")
    }

    @Test("§2.9 narrowing: 0/0 + ::/0 against 0/0 gives IPv4 only, which is a narrowing of the offer")
    func narrowing() {
        let narrowed = IKETrafficSelectorNarrowing.narrow(proposed: [.anyIPv4, .anyIPv6], configured: [.anyIPv4])
        #expect(narrowed == [.anyIPv4])
        #expect(IKETrafficSelectorNarrowing.isNarrowing(narrowed, of: [.anyIPv4, .anyIPv6]))
        #expect(!IKETrafficSelectorNarrowing.isNarrowing([.anyIPv6], of: [.anyIPv4]))
        #expect(!IKETrafficSelectorNarrowing.isNarrowing([], of: [.anyIPv4]))
    }

    @Test("§2.1 backoff: strongSwan's 4 s * 1.8^n, capped by the limit")
    func backoff() {
        let p = IKERetransmissionPolicy.strongSwanDefaults
        #expect(p.interval(afterAttempt: 0) == 4)
        #expect(abs(p.interval(afterAttempt: 2) - 12.96) < 1e-9)
        #expect(IKERetransmissionPolicy(limit: 10).interval(afterAttempt: 3) == 10)
    }

    @Test("Datagram routing: a fresh IKE_SA_INIT request is a new-SA request, a response is not")
    func routing() throws {
        let req = try IKEMessage(header: IKEHeader(initiatorSPI: IKESPI(5), exchangeType: .ikeSAInit, flags: [.initiator], messageID: 0),
                                 payloads: []).encoded()
        #expect(try IKEHeader(decoding: req).isNewSARequest)
        let resp = try IKEMessage(header: IKEHeader(initiatorSPI: IKESPI(5), responderSPI: IKESPI(6), exchangeType: .ikeSAInit,
                                                    flags: [.response], messageID: 0), payloads: []).encoded()
        #expect(try !IKEHeader(decoding: resp).isNewSARequest)
        #expect((try? IKEHeader(decoding: [1, 2, 3])) == nil)
    }
}
