import ViaductCrypto
import CryptoCore
import Foundation
import PKI
import TestSupport
import Testing

@Suite struct SignatureTests {
    // RFC 8032 §7.1, TEST 1, TEST 2, TEST 3 (secret key, public key, message, signature).
    static let ed25519Vectors: [(String, String, String, String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
         "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
         "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
         "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test(arguments: 0..<3)
    func ed25519KnownAnswer(_ i: Int) throws {
        let (sk, pk, msg, sig) = Self.ed25519Vectors[i]
        let key = try PrivateKey(ed25519Seed: hex(sk))
        #expect(try key.publicKey.rawEd25519 == hex(pk))
        let produced = try Signature.sign(hex(msg), with: key, scheme: .ed25519)
        #expect(produced == hex(sig))
        #expect(try Signature.verify(hex(sig), for: hex(msg), publicKey: key.publicKey, scheme: .ed25519))
    }

    static func key(for scheme: SignatureScheme) throws -> PrivateKey {
        switch scheme {
        case .ecdsaSHA256, .ecdsaRawP256SHA256: try PrivateKey.generate(.ecdsaP256)
        case .ecdsaSHA384, .ecdsaRawP384SHA384: try PrivateKey.generate(.ecdsaP384)
        case .ecdsaSHA512, .ecdsaRawP521SHA512: try PrivateKey.generate(.ecdsaP521)
        case .ed25519: try PrivateKey.generate(.ed25519)
        default: try PrivateKey.generate(.rsa2048)
        }
    }

    @Test(arguments: SignatureScheme.allCases)
    func signVerifyRoundTrip(_ scheme: SignatureScheme) throws {
        let key = try Self.key(for: scheme)
        let data = Array("IKE_AUTH signed octets for \(scheme)".utf8)
        let sig = try Signature.sign(data, with: key, scheme: scheme)
        let pub = try key.publicKey
        #expect(try Signature.verify(sig, for: data, publicKey: pub, scheme: scheme))
        // Tampered data and tampered signature are rejected (false, not a throw).
        #expect(try !Signature.verify(sig, for: data + [0], publicKey: pub, scheme: scheme))
        var bad = sig
        bad[bad.count / 2] ^= 0x01
        #expect(try !Signature.verify(bad, for: data, publicKey: pub, scheme: scheme))
        #expect(try !Signature.verify(Array(sig.dropLast()), for: data, publicKey: pub, scheme: scheme))
        // A different key does not verify.
        let other = try Self.key(for: scheme)
        #expect(try !Signature.verify(sig, for: data, publicKey: other.publicKey, scheme: scheme))
        // Method-14 schemes survive the AUTH payload encoding.
        if scheme.authMethod == .digitalSignature {
            let auth = try DigitalSignatureAuthData.encode(scheme: scheme, signature: sig)
            let (parsed, s) = try DigitalSignatureAuthData.decode(auth)
            #expect(parsed == scheme && s == sig)
        }
    }

    @Test func rfc4754RawECDSAHasFixedSize() throws {
        for (scheme, type, size) in [(SignatureScheme.ecdsaRawP256SHA256, KeyType.ecdsaP256, 64),
                                     (.ecdsaRawP384SHA384, .ecdsaP384, 96), (.ecdsaRawP521SHA512, .ecdsaP521, 132)] {
            let key = try PrivateKey.generate(type)
            for i in 0..<20 {  // r or s with leading zero bytes must still be padded
                let sig = try Signature.sign([UInt8(i)], with: key, scheme: scheme)
                #expect(sig.count == size)
                #expect(sig.first != 0x30 || sig.count == size)
            }
            #expect(scheme.algorithmIdentifier == nil)
        }
        // A raw scheme refuses the wrong curve.
        let p384 = try PrivateKey.generate(.ecdsaP384)
        #expect(throws: CryptoError.self) { try Signature.sign([1], with: p384, scheme: .ecdsaRawP256SHA256) }
    }

    @Test func schemeKeyMismatchThrows() throws {
        let ec = try PrivateKey.generate(.ecdsaP256)
        #expect(throws: CryptoError.self) { try Signature.sign([1], with: ec, scheme: .rsaPSSSHA256) }
        let ed = try PrivateKey.generate(.ed25519)
        #expect(throws: CryptoError.self) { try Signature.verify([1], for: [1], publicKey: ed.publicKey, scheme: .ecdsaSHA256) }
    }

    /// RFC 7427 Appendix A.1 / A.3 / A.4.3 and RFC 8420 §2 AlgorithmIdentifier octets.
    @Test func rfc7427AlgorithmIdentifiersMatchAppendixA() throws {
        let expected: [(SignatureScheme, String)] = [
            (.rsaPKCS1SHA1, "300d06092a864886f70d0101050500"),       // A.1.1
            (.rsaPKCS1SHA256, "300d06092a864886f70d01010b0500"),     // A.1.2
            (.rsaPKCS1SHA384, "300d06092a864886f70d01010c0500"),     // A.1.3
            (.rsaPKCS1SHA512, "300d06092a864886f70d01010d0500"),     // A.1.4
            (.ecdsaSHA256, "300a06082a8648ce3d040302"),               // A.3.2
            (.ecdsaSHA384, "300a06082a8648ce3d040303"),               // A.3.3
            (.ecdsaSHA512, "300a06082a8648ce3d040304"),               // A.3.4
            (.rsaPSSSHA256, """
             3041 0609 2a86 4886 f70d 0101 0a30 34a0
             0f30 0d06 0960 8648 0165 0304 0201 0500
             a11c 301a 0609 2a86 4886 f70d 0101 0830
             0d06 0960 8648 0165 0304 0201 0500 a203
             0201 20
             """),                                                    // A.4.3
            (.ed25519, "300506032b6570"),                             // RFC 8420 §2
        ]
        for (scheme, encoded) in expected {
            #expect(scheme.algorithmIdentifier == hex(encoded), "\(scheme)")
            #expect(try SignatureScheme(algorithmIdentifier: hex(encoded)) == scheme)
        }
        // SHA-384/512 PSS follow the same pattern (salt 48 / 64).
        #expect(SignatureScheme.rsaPSSSHA384.algorithmIdentifier?.suffix(3) == [0x02, 0x01, 0x30])
        #expect(SignatureScheme.rsaPSSSHA512.algorithmIdentifier?.suffix(3) == [0x02, 0x01, 0x40])
        for s in SignatureScheme.allCases {
            if let ai = s.algorithmIdentifier { #expect(try SignatureScheme(algorithmIdentifier: ai) == s) }
        }
    }

    @Test func pssParametersAreParsedLeniently() throws {
        // Hash parameters absent, explicit default trailerField 1: still PSS-SHA256.
        let hash = "300b0609608648016503040201"
        let mgf = "a11a3018" + "06092a864886f70d010108" + hash
        let params = "a00d" + hash + mgf + "a203020120" + "a303020101"
        let body = "06092a864886f70d01010a" + "30" + String(format: "%02x", params.count / 2) + params
        let ai = "30" + String(format: "%02x", body.count / 2) + body
        #expect(try SignatureScheme(algorithmIdentifier: hex(ai)) == .rsaPSSSHA256)
        // PSS with default (SHA-1) parameters is refused, not misread.
        #expect(throws: CryptoError.self) { try SignatureScheme(algorithmIdentifier: hex("300d06092a864886f70d01010a3000")) }
        // Unknown OID and garbage.
        #expect(throws: CryptoError.self) { try SignatureScheme(algorithmIdentifier: hex("300506032b6571")) }
        #expect(throws: CryptoError.self) { try SignatureScheme(algorithmIdentifier: [0x30, 0x80, 0x00]) }
        #expect(throws: CryptoError.self) { try DigitalSignatureAuthData.decode([7, 0x30]) }
        #expect(throws: CryptoError.self) { try DigitalSignatureAuthData.decode([]) }
    }

    @Test func negotiationFollowsPeerHashes() {
        let all = Set(SignatureHashAlgorithm.allCases)
        #expect(SignatureScheme.negotiate(for: .ed25519, peerHashes: all) == .ed25519)
        #expect(SignatureScheme.negotiate(for: .ed25519, peerHashes: [.sha256]) == nil)
        #expect(SignatureScheme.negotiate(for: .ecdsa(.p256), peerHashes: all) == .ecdsaSHA256)
        #expect(SignatureScheme.negotiate(for: .ecdsa(.p384), peerHashes: all) == .ecdsaSHA384)
        #expect(SignatureScheme.negotiate(for: .ecdsa(.p521), peerHashes: [.sha256, .sha512]) == .ecdsaSHA512)
        #expect(SignatureScheme.negotiate(for: .ecdsa(.p384), peerHashes: [.sha256]) == .ecdsaSHA256)
        #expect(SignatureScheme.negotiate(for: .rsa(bits: 3072), peerHashes: all) == .rsaPKCS1SHA256)
        #expect(SignatureScheme.negotiate(for: .rsa(bits: 3072), peerHashes: [.sha512], preferPSS: true) == .rsaPSSSHA512)
        #expect(SignatureScheme.negotiate(for: .rsa(bits: 2048), peerHashes: [.sha1]) == nil)
        #expect(SignatureScheme.negotiate(for: .rsa(bits: 2048), peerHashes: [.sha1], allowSHA1: true) == .rsaPKCS1SHA1)
        #expect(SignatureScheme.legacy(for: .ecdsa(.p384)) == .ecdsaRawP384SHA384)
        #expect(SignatureScheme.legacy(for: .rsa(bits: 2048)) == nil)
        #expect(SignatureScheme(legacyAuthMethod: .rsaDigitalSignature) == .rsaPKCS1SHA1)
        #expect(SignatureHashAlgorithm(rawValue: 5) == .identity && SignatureHashAlgorithm(rawValue: 2) == .sha256)
    }

    /// Signatures made here verify with the openssl CLI (independent check of padding/encoding).
    @Test func signaturesVerifyWithOpenSSLCLI() throws {
        guard let openssl = TestProcess.find("openssl") else {
            print("skipping: openssl binary not found")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-sig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = Array("hello IKE".utf8)
        try Data(data).write(to: dir.appendingPathComponent("msg"))
        let cases: [(SignatureScheme, [String])] = [
            (.ecdsaSHA256, ["-sha256"]), (.rsaPKCS1SHA384, ["-sha384"]),
            (.rsaPSSSHA256, ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]),
        ]
        for (scheme, flags) in cases {
            let key = try Self.key(for: scheme)
            let kp = dir.appendingPathComponent("k-\(flags.count)-\(scheme.hash)").path
            try key.write(toPath: kp)
            let sig = try Signature.sign(data, with: key, scheme: scheme)
            let sp = dir.appendingPathComponent("sig").path
            try Data(sig).write(to: URL(fileURLWithPath: sp))
            let r = try TestProcess.run(openssl, ["dgst"] + flags + ["-prverify", kp, "-signature", sp, dir.appendingPathComponent("msg").path])
            #expect(r.status == 0, "\(scheme): \(r.output)")
        }
    }
}
