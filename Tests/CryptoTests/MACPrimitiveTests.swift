import ViaductCrypto
import CryptoCore
import TestSupport
import Testing

@Suite("HMAC PRF and integrity primitives")
struct MACPrimitiveTests {
    let provider = OpenSSLCryptoProvider()

    // RFC 4231 §4.2 (test case 1) and §4.3 (test case 2).
    @Test func hmacSHA2RFC4231() throws {
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        let data1 = Array("Hi There".utf8)
        let key2 = Array("Jefe".utf8)
        let data2 = Array("what do ya want for nothing?".utf8)
        let cases: [(PRFAlgorithm, String, String)] = [
            (.hmacSHA256,
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (.hmacSHA384,
             "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
             "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
            (.hmacSHA512,
             "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
             "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
        ]
        for (algorithm, expected1, expected2) in cases {
            let prf = try provider.makePRF(algorithm)
            #expect(try prf.compute(key: key1, data: data1) == hex(expected1))
            // The same instance re-keys correctly (contexts are reused).
            #expect(try prf.compute(key: key2, data: data2) == hex(expected2))
            #expect(try prf.compute(key: key1, data: data1) == hex(expected1))
        }
    }

    // RFC 2202 §2/§3 test case 2 ("Jefe"), for the weak PRFs kept for completeness.
    @Test func hmacWeakRFC2202() throws {
        let key = Array("Jefe".utf8)
        let data = Array("what do ya want for nothing?".utf8)
        #expect(try provider.makePRF(.hmacMD5).compute(key: key, data: data) == hex("750c783e6ab0b503eaa86e310a5db738"))
        #expect(try provider.makePRF(.hmacSHA1).compute(key: key, data: data) == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))
    }

    // RFC 4868 §2.7.2.1 / §2.7.2.2 / §2.7.2.3, test case AUTH256-1 / AUTH384-1 / AUTH512-1:
    // key = 0x0b repeated to the hash length, data "Hi There", ICV truncated.
    @Test(arguments: [
        (IntegrityAlgorithm.hmacSHA256_128, "198a607eb44bfbc69903a0f1cf2bbdc5"),
        (.hmacSHA384_192, "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"),
        (.hmacSHA512_256, "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"),
    ])
    func integrityRFC4868(algorithm: IntegrityAlgorithm, expected: String) throws {
        let mac = try provider.makeIntegrity(algorithm, key: SecureBytes([UInt8](repeating: 0x0b, count: algorithm.keyLength)))
        let data = Array("Hi There".utf8)
        var icv = [UInt8](repeating: 0, count: mac.icvLength)
        try data.withBytes { (d) throws(CryptoError) in
            try icv.withMutableBytes { (out) throws(CryptoError) in try mac.computeICV(over: d, into: out) }
        }
        #expect(icv == hex(expected))
        // Verify, and verify again with a reused context.
        for _ in 0..<2 {
            #expect(errorCode { () throws(CryptoError) in
                try data.withBytes { (d) throws(CryptoError) in try icv.withBytes { (i) throws(CryptoError) in try mac.verifyICV(over: d, icv: i) } }
            } == nil)
        }
        var bad = icv
        bad[0] ^= 0x80
        #expect(errorCode { () throws(CryptoError) in
            try data.withBytes { (d) throws(CryptoError) in try bad.withBytes { (i) throws(CryptoError) in try mac.verifyICV(over: d, icv: i) } }
        } == .authenticationFailed)
        let short = Array(icv.dropLast())
        #expect(errorCode { () throws(CryptoError) in
            try data.withBytes { (d) throws(CryptoError) in try short.withBytes { (i) throws(CryptoError) in try mac.verifyICV(over: d, icv: i) } }
        } == .truncated)
    }

    @Test func integrityRejectsWrongKeyLength() {
        #expect(errorCode { () throws(CryptoError) in try provider.makeIntegrity(.hmacSHA256_128, key: SecureBytes([UInt8](repeating: 1, count: 16))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeIntegrity(.hmacSHA512_256, key: SecureBytes([UInt8](repeating: 1, count: 32))) } == .invalidKeyLength)
    }
}
