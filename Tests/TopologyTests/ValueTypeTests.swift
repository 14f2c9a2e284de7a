import NetTypes
import Testing
@testable import Topology

@Suite("Addresses, prefixes, durations, identities, proposals")
struct ValueTypeTests {
    @Test("IPv6 text form follows RFC 5952", arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::", "::"), ("::1", "::1"), ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("2001:DB8::A", "2001:db8::a"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
    ])
    func ipv6Format(input: String, expected: String) throws {
        let a = try #require(IPAddress(input))
        #expect(a.description == expected)
        #expect(IPAddress(expected) == a)
    }

    @Test("malformed addresses are rejected", arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1.2.3.4 ", "::1::", "1:2:3:4:5:6:7:8:9",
        "12345::", "g::1", ":1", "1:", "1::2::3", "192.0.2.1/24", "1.2.3.4:80", "::ffff:1.2.3", "١.٢.٣.٤",
    ])
    func badAddresses(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test("prefixes: host bits, lengths, overlap and subnets")
    func prefixes() throws {
        #expect(IPPrefix.parse("198.18.1.5/24") == .failure(.hostBits(suggestion: try IPPrefix.parse("198.18.1.0/24").get())))
        #expect(IPPrefix.parse("198.18.0.0/33") == .failure(.length(max: 32)))
        #expect(IPPrefix.parse("2001:db8::/129") == .failure(.length(max: 128)))
        #expect(IPPrefix.parse("198.18.0.0/") == .failure(.syntax))
        #expect(IPPrefix.parse("198.18.0.0/+8") == .failure(.syntax))
        let p = try IPPrefix.parse("169.254.100.0/24").get()
        #expect(p.subnetCount(length: 30) == 64)
        #expect(p.subnet(63, length: 30)?.description == "169.254.100.252/30")
        #expect(p.subnet(64, length: 30) == nil)
        #expect(p.overlaps(try IPPrefix.parse("169.254.0.0/16").get()))
        #expect(!p.overlaps(try IPPrefix.parse("169.254.101.0/24").get()))
        #expect(!p.overlaps(try IPPrefix.parse("2001:db8::/32").get()))
        let v6 = try IPPrefix.parse("2001:db8:ff::/48").get()
        #expect(v6.subnet(1, length: 126)?.description == "2001:db8:ff::4/126")
        #expect(v6.subnet(0xffff, length: 64)?.description == "2001:db8:ff:ffff::/64")
        #expect(v6.subnet(0x10000, length: 64) == nil)
        #expect(v6.subnet(3, length: 50)?.description == "2001:db8:ff:c000::/50")
        #expect(try IPPrefix.parse("::/0").get().subnetCount(length: 128) == Int.max)
    }

    @Test("durations parse the way operators write them, and print back")
    func durations() {
        #expect(TimeSpan.parse("8h")?.seconds == 28_800)
        #expect(TimeSpan.parse("1h30m")?.seconds == 5_400)
        #expect(TimeSpan.parse("1d")?.description == "1d")
        #expect(TimeSpan(seconds: 5_400).description == "1h30m")
        for bad in ["", "10", "h", "1x", "1.5h", "-1s", "1 h", "99999999999h"] {
            #expect(TimeSpan.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("identity kinds are inferred like strongSwan does")
    func identities() {
        #expect(Identity("192.0.2.1")?.kind == "ipv4")
        #expect(Identity("2001:db8::1")?.kind == "ipv6")
        #expect(Identity("Dc1.Example.NET") == .fqdn("dc1.example.net"))
        #expect(Identity("ops@example.net")?.kind == "email")
        #expect(Identity("CN=dc1, O=Example")?.kind == "dn")
        for bad in ["", "has space", "a..b", "-a.example", "@example.net", "x@"] {
            #expect(Identity(bad) == nil, "\(bad)")
        }
    }

    @Test("proposals round-trip through their canonical strongSwan spelling", arguments: [
        "aes256gcm16-prfsha384-ecp384", "aes128gcm16-prfsha256-x25519", "aes256-sha256-prfsha256-modp3072",
        "chacha20poly1305-prfsha256-x25519", "aes256gcm16-aes128gcm16-prfsha512-ecp521-x448",
        "aes256gcm16-prfsha384-mlkem768", "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        "aes256gcm16-prfsha384-ecp384-ke1_mlkem1024-ke1_none-ke2_x25519",
    ])
    func ikeRoundTrip(text: String) throws {
        let p = try ProposalSyntax.parse(text, kind: .ike).get()
        #expect(p.description == text)
        #expect(try ProposalSyntax.parse(p.description, kind: .ike).get() == p)
    }

    @Test("ESP proposals: PFS groups, ESN, and derived details")
    func espProposals() throws {
        let p = try ProposalSyntax.parse("aes256gcm16-x25519-esn", kind: .esp).get()
        #expect(p.keyExchange == [.curve25519] && p.esn == [true])
        #expect(p.description == "aes256gcm16-x25519-esn")
        let cbc = try ProposalSyntax.parse("aes256-sha256", kind: .esp).get()
        #expect(cbc.integrity == [.hmacSHA256_128] && cbc.keyExchange.isEmpty)
        let ikeCBC = try ProposalSyntax.parse("aes128-sha384-modp2048", kind: .ike).get()
        #expect(ikeCBC.prf == [.hmacSHA384], "the PRF is derived from the integrity algorithm")
        #expect(try ProposalSyntax.parse("aes128gcm-prfsha256-ecp256", kind: .ike).get().encryption == [.aesGCM16(keyBits: 128)])
    }

    @Test("proposal errors name the bad word", arguments: [
        ("aes256gcm16-prfsha256", "names no key exchange group"),
        ("aes256gcm16-ecp256", "needs a PRF"),
        ("aes256-modp2048", "without an integrity algorithm"),
        ("aes256gcm16-aes256-sha256-prfsha256-ecp256", "mixes AEAD and non-AEAD"),
        ("aes265gcm16-prfsha256-ecp256", "did you mean 'aes256gcm16'"),
        ("aes256gcm16--ecp256", "is not a proposal"),
        ("aes128ctr-sha256-ecp256", "not supported by Viaduct"),
        ("aes256gcm16-prfsha256-ecp256-esn", "apply to ESP proposals only"),
        ("aes256gcm16-prfsha256-ecp256-ke8_x25519", "ke1_ to ke7_"),
        ("aes256gcm16-prfsha256-ecp256-ke1_mlkem786", "did you mean 'ke1_mlkem768'"),
    ])
    func proposalErrors(text: String, fragment: String) {
        guard case .failure(let e) = ProposalSyntax.parse(text, kind: .ike) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(e.message.contains(fragment), "\(e.message)")
    }

    @Test("RFC 9370 additional key exchanges: per index in order, NONE as nil, IKE proposals only")
    func additionalKeyExchanges() throws {
        let p = try ProposalSyntax.parse("aes256gcm16-prfsha384-x25519-ke2_ecp384-ke1_mlkem768-ke1_none", kind: .ike).get()
        #expect(p.keyExchange == [.curve25519])
        #expect(p.additionalKeyExchanges == [1: [.mlkem768, nil], 2: [.ecp384]])
        #expect(p.description == "aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none-ke2_ecp384")
        guard case .failure(let e) = ProposalSyntax.parse("aes256gcm16-x25519-ke1_mlkem768", kind: .esp) else {
            Issue.record("an ESP proposal took ke1_")
            return
        }
        #expect(e.message.contains("IKE proposals only"), "\(e.message)")
        #expect(try ProposalSyntax.parse("aes128-sha256-x25519-ke1_modp1024", kind: .ike).get().weakAlgorithms == ["modp1024"])
    }

    @Test("weak algorithms are flagged")
    func weak() throws {
        #expect(try ProposalSyntax.parse("aes128-sha1-modp1024", kind: .ike).get().weakAlgorithms == ["sha1", "prfsha1", "modp1024"])
        #expect(try ProposalSyntax.parse("aes256gcm16-prfsha384-ecp384", kind: .ike).get().weakAlgorithms.isEmpty)
    }

    @Test("did-you-mean uses edit distance with transpositions")
    func suggestions() {
        #expect(Suggest.closest(to: "adress", in: ["address", "asn"]) == "address")
        #expect(Suggest.closest(to: "gatewyas", in: ["gateways", "tunnels"]) == "gateways")
        #expect(Suggest.closest(to: "colour", in: ["address", "asn"]) == nil)
    }
}
