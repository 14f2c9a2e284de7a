import ViaductCrypto
import CryptoCore
import TestSupport
import Testing

@Suite("CBC primitives")
struct CBCPrimitiveTests {
    let provider = OpenSSLCryptoProvider()

    func run(_ cipher: any CBCCipher, encrypt: Bool, iv: [UInt8], _ data: [UInt8]) throws(CryptoError) -> [UInt8] {
        var buffer = data
        try iv.withBytes { (i) throws(CryptoError) in
            try buffer.withMutableBytes { (b) throws(CryptoError) in
                if encrypt { try cipher.encrypt(iv: i, buffer: b) } else { try cipher.decrypt(iv: i, buffer: b) }
            }
        }
        return buffer
    }

    // NIST SP 800-38A §F.2.1 (CBC-AES128.Encrypt) and §F.2.5 (CBC-AES256.Encrypt).
    @Test(arguments: [
        (128, "2b7e151628aed2a6abf7158809cf4f3c",
         "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"),
        (256, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
         "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"),
    ])
    func aesCBCSP80038A(bits: Int, key: String, ciphertext: String) throws {
        let cipher = try provider.makeCBC(.aesCBC(keyBits: bits), key: SecureBytes(hex(key)))
        let iv = hex("000102030405060708090a0b0c0d0e0f")
        let plaintext = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
        #expect(try run(cipher, encrypt: true, iv: iv, plaintext) == hex(ciphertext))
        #expect(try run(cipher, encrypt: false, iv: iv, hex(ciphertext)) == plaintext)
        #expect(try run(cipher, encrypt: true, iv: iv, plaintext) == hex(ciphertext))
    }

    // RFC 3602 §4, Cases #1–#4: AES-128-CBC as ESP uses it (explicit IV, no padding of its own).
    @Test(arguments: [
        ("06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
         "53696e676c6520626c6f636b206d7367",  // "Single block msg"
         "e353779c1079aeb82708942dbe77181a"),
        ("c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
        ("6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
         "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320626c6f636b7329",  // "This is a 48-byte message (exactly 3 AES blocks)"
         "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684"),
        ("56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
         "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"),
    ])
    func aesCBCRFC3602(key: String, iv: String, plaintext: String, ciphertext: String) throws {
        let cipher = try provider.makeCBC(.aesCBC(keyBits: 128), key: SecureBytes(hex(key)))
        #expect(try run(cipher, encrypt: true, iv: hex(iv), hex(plaintext)) == hex(ciphertext))
        #expect(try run(cipher, encrypt: false, iv: hex(iv), hex(ciphertext)) == hex(plaintext))
    }

    @Test func tripleDESRoundTrip() throws {
        var random = SeededRandomSource(seed: 5)
        let cipher = try provider.makeCBC(.tripleDES, key: try random.secureBytes(24))
        let iv = try random.bytes(8)
        let plaintext = try random.bytes(64)
        let ciphertext = try run(cipher, encrypt: true, iv: iv, plaintext)
        #expect(ciphertext != plaintext)
        #expect(try run(cipher, encrypt: false, iv: iv, ciphertext) == plaintext)
    }

    @Test func rejectsBadInput() throws {
        let cipher = try provider.makeCBC(.aesCBC(keyBits: 128), key: SecureBytes([UInt8](repeating: 7, count: 16)))
        let iv = [UInt8](repeating: 0, count: 16)
        #expect(errorCode { () throws(CryptoError) in try run(cipher, encrypt: true, iv: iv, [UInt8](repeating: 0, count: 15)) } == .malformed)
        #expect(errorCode { () throws(CryptoError) in try run(cipher, encrypt: false, iv: iv, [UInt8](repeating: 0, count: 17)) } == .malformed)
        #expect(errorCode { () throws(CryptoError) in try run(cipher, encrypt: true, iv: [1, 2, 3], [UInt8](repeating: 0, count: 16)) } == .malformed)
        #expect(errorCode { () throws(CryptoError) in try provider.makeCBC(.aesCBC(keyBits: 256), key: SecureBytes([UInt8](repeating: 1, count: 16))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeCBC(.aesGCM16(keyBits: 128), key: SecureBytes([UInt8](repeating: 1, count: 20))) } == .unsupportedAlgorithm)
    }
}
