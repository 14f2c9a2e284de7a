import ViaductCrypto
import CryptoCore
import TestSupport
import Testing

// The expected values below were derived independently of Viaduct with Python 3's standard
// library (hmac + hashlib only), straight from the RFC 7296 formulas:
//
//   import hmac, hashlib
//   prf = lambda k, d: hmac.new(k, d, hashlib.sha256).digest()
//   def prfplus(k, s, n):                       # RFC 7296 §2.13
//       out, t, c = b'', b'', 1
//       while len(out) < n:
//           t = prf(k, t + s + bytes([c])); out += t; c += 1
//       return out[:n]
//   ni = bytes(range(0x10, 0x30)); nr = bytes(range(0x40, 0x60))
//   gir = bytes.fromhex('4a5d9d5b...1e161742')    # the RFC 7748 §6.1 X25519 shared secret
//   spii = bytes.fromhex('0102030405060708'); spir = bytes.fromhex('1112131415161718')
//   skeyseed = prf(ni + nr, gir)                                      # §2.14
//   ks = prfplus(skeyseed, ni + nr + spii + spir, 32 + 0 + 0 + 36 + 36 + 32 + 32)
//        # SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr, AES-GCM-256 (key+salt = 36), no INTEG
//   keymat = prfplus(ks[:32], ni + nr, 16 + 32 + 16 + 32)             # §2.17, AES-CBC-128 + HMAC-SHA2-256-128
//   gnew = bytes(reversed(gir))
//   keymat_pfs = prfplus(ks[:32], gnew + ni + nr, 36 * 2)             # §2.17 with PFS, AES-GCM-256
//   rekeyed = prf(ks[:32], gnew + ni + nr)                            # §2.18
//   prfplus(b'key', b'seed', 100)                                     # multi-block prf+

@Suite("IKEv2 key schedule")
struct KeyScheduleTests {
    let provider = OpenSSLCryptoProvider()
    let ni = Array(UInt8(0x10)..<UInt8(0x30))
    let nr = Array(UInt8(0x40)..<UInt8(0x60))
    let gir = SecureBytes(hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    let spiI: UInt64 = 0x0102_0304_0506_0708
    let spiR: UInt64 = 0x1112_1314_1516_1718

    @Test func prfPlusMultiBlock() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let key = Array("key".utf8)
        let seed = Array("seed".utf8)
        let out = try key.withBytes { (k) throws(CryptoError) -> SecureBytes in
            try seed.withBytes { (s) throws(CryptoError) -> SecureBytes in try PRFPlus.expand(prf: prf, key: k, seed: s, length: 100) }
        }
        #expect(out.revealed == hex("""
            a2392e429a99b173341b368bb5ce320bfd483d89567c14ec187c2d77e3c0a208ba45d21d42611712996c0cd4b329ac86
            81e093a8a5bbbbf0fb8c9d1cf674f7423fe3d2fbd6641ff544749daa37804f04be0b1beba59ddc3867c3016209779fa7
            4e8b8654
            """))
    }

    // RFC 7296 §2.13: T255 is the last block; asking for more is an error, never a wrapped counter.
    @Test func prfPlusLimit() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let key: [UInt8] = [1]
        let ok = try key.withBytes { (k) throws(CryptoError) -> SecureBytes in
            try PRFPlus.expand(prf: prf, key: k, seed: UnsafeRawBufferPointer(start: nil, count: 0), length: 255 * 32)
        }
        #expect(ok.count == 255 * 32)
        #expect(errorCode { () throws(CryptoError) in
            try key.withBytes { (k) throws(CryptoError) in
                try PRFPlus.expand(prf: prf, key: k, seed: UnsafeRawBufferPointer(start: nil, count: 0), length: 255 * 32 + 1)
            }
        } == .invalidKeyLength)
    }

    // RFC 7296 §2.14.
    @Test func ikeSAKeys() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let skeyseed = try IKEKeySchedule.skeyseed(prf: prf, nonceI: ni, nonceR: nr, sharedSecret: gir)
        #expect(skeyseed.revealed == hex("4e5615961f0037711cea212a8e1f435168a9ae8234522f1dc1fe14ce2bab861e"))
        let keys = try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: skeyseed, nonceI: ni, nonceR: nr,
                                                      spiI: spiI, spiR: spiR, encryption: .aesGCM16(keyBits: 256), integrity: nil)
        #expect(keys.skD.revealed == hex("a980e19f810e9ec3b417d5f3ec64d081d35a92d50ee54bd20cc7467bb814b7dd"))
        #expect(keys.skAi.count == 0)
        #expect(keys.skAr.count == 0)
        #expect(keys.skEi.revealed == hex("433e9037fe218fbd329f1e972aaf25fca3c1717f7d69cc71d121c485df6752fcbe91c5ee"))
        #expect(keys.skEr.revealed == hex("02950aebe318498bb4fdfbf93a865610f65ee316c595a438102d7b4caadad8a4ddb89429"))
        #expect(keys.skPi.revealed == hex("cd2e7dba7f8becb752e58e1605883ee086d1773d3007b3962837824a5f23ca08"))
        #expect(keys.skPr.revealed == hex("4bb63621bc7b859f41fa6b018f6574868d2dc91f7d77ebe43bf3cc6d1a0547f3"))
        // The derived SK_ei keys a working AEAD (key || salt split).
        _ = try provider.makeAEAD(.aesGCM16(keyBits: 256), key: keys.skEi)
    }

    // RFC 7296 §2.17, no PFS: KEYMAT = prf+(SK_d, Ni | Nr), split ei | ai | er | ar.
    @Test func childSAKeys() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let skD = SecureBytes(hex("a980e19f810e9ec3b417d5f3ec64d081d35a92d50ee54bd20cc7467bb814b7dd"))
        let keys = try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: skD, sharedSecret: nil, nonceI: ni, nonceR: nr,
                                                        encryption: .aesCBC(keyBits: 128), integrity: .hmacSHA256_128)
        let keymat = hex("""
            9f3708e93948e25fede31fc884dffb29 1362abc6e10c5fd8e80cec72025b0cd15751a8dfa5c57ff14f21ee3717d20d84
            779213b0f798e8852dde574929d315da d634162f6cae6c61ed615e4fe42bc0a590618ae4ab38573a577514fc9398cfc0
            """)
        #expect(keys.initiatorToResponder.encryption.revealed == Array(keymat[0..<16]))
        #expect(keys.initiatorToResponder.integrity?.revealed == Array(keymat[16..<48]))
        #expect(keys.responderToInitiator.encryption.revealed == Array(keymat[48..<64]))
        #expect(keys.responderToInitiator.integrity?.revealed == Array(keymat[64..<96]))
        let (outbound, inbound) = keys.directions(isInitiator: false)
        #expect(outbound.encryption === keys.responderToInitiator.encryption)
        #expect(inbound.encryption === keys.initiatorToResponder.encryption)
    }

    // RFC 7296 §2.17 with PFS: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr).
    @Test func childSAKeysWithPFS() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let skD = SecureBytes(hex("a980e19f810e9ec3b417d5f3ec64d081d35a92d50ee54bd20cc7467bb814b7dd"))
        let gNew = SecureBytes(gir.revealed.reversed())
        let keys = try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: skD, sharedSecret: gNew, nonceI: ni, nonceR: nr,
                                                        encryption: .aesGCM16(keyBits: 256), integrity: nil)
        let keymat = hex("df7a68a0c4b3baae878155d5d6ec184325ad6689b3113979424b8ff1b9577345326096cf2de4f924833350a278759aca24b6cf570609816be56defcad8b7b06ca75938ae3c544d0b")
        #expect(keys.initiatorToResponder.encryption.revealed == Array(keymat[0..<36]))
        #expect(keys.initiatorToResponder.integrity == nil)
        #expect(keys.responderToInitiator.encryption.revealed == Array(keymat[36..<72]))
    }

    // RFC 7296 §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).
    @Test func rekeyedSKEYSEED() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let skD = SecureBytes(hex("a980e19f810e9ec3b417d5f3ec64d081d35a92d50ee54bd20cc7467bb814b7dd"))
        let gNew = SecureBytes(gir.revealed.reversed())
        let seed = try IKEKeySchedule.rekeyedSKEYSEED(prf: prf, oldSKd: skD, sharedSecret: gNew, nonceI: ni, nonceR: nr)
        #expect(seed.revealed == hex("79bd7f457b030b4c389a8c3cef5be583e304445b21f4c24bcc4208c8a7ea5e29"))
    }

    // RFC 7296 §3.3.3: AEAD with an integrity transform, or a plain cipher without one, is refused.
    @Test func rejectsInconsistentTransforms() throws {
        let prf = try provider.makePRF(.hmacSHA256)
        let skD = SecureBytes([UInt8](repeating: 1, count: 32))
        #expect(errorCode { () throws(CryptoError) in
            try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: skD, sharedSecret: nil, nonceI: ni, nonceR: nr,
                                                 encryption: .aesGCM16(keyBits: 128), integrity: .hmacSHA256_128)
        } == .unsupportedAlgorithm)
        #expect(errorCode { () throws(CryptoError) in
            try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: skD, nonceI: ni, nonceR: nr, spiI: 1, spiR: 2,
                                               encryption: .aesCBC(keyBits: 128), integrity: nil)
        } == .unsupportedAlgorithm)
    }

    /// End to end: two key exchanges, both sides derive identical, correctly sized IKE SA keys.
    @Test func bothSidesAgree() throws {
        var random = SeededRandomSource(seed: 42)
        let initiator = try provider.makeKeyExchange(.ecp256, random: &random)
        let responder = try provider.makeKeyExchange(.ecp256, random: &random)
        let prf = try provider.makePRF(.hmacSHA384)
        func derive(_ me: any KeyExchange, _ peer: [UInt8]) throws(CryptoError) -> IKESAKeys {
            let secret = try me.sharedSecret(peerPublicValue: peer)
            let seed = try IKEKeySchedule.skeyseed(prf: prf, nonceI: ni, nonceR: nr, sharedSecret: secret)
            return try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: seed, nonceI: ni, nonceR: nr, spiI: spiI, spiR: spiR,
                                                      encryption: .aesCBC(keyBits: 256), integrity: .hmacSHA384_192)
        }
        let a = try derive(initiator, responder.publicValue)
        let b = try derive(responder, initiator.publicValue)
        #expect(a.skD.constantTimeEquals(b.skD))
        #expect(a.skPr.constantTimeEquals(b.skPr))
        #expect(a.skAi.count == 48)
        #expect(a.skEi.count == 32)
        #expect(a.skD.count == 48)
    }
}
