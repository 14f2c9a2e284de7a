@testable import ViaductCrypto
import CryptoCore
import TestSupport
import Testing

@Suite("AEAD primitives")
struct AEADPrimitiveTests {
    let provider = OpenSSLCryptoProvider()

    /// Seals `plaintext` in place in a buffer with room for the tag; returns ciphertext || tag.
    func seal(_ aead: any AEADCipher, iv: [UInt8], aad: [UInt8], _ plaintext: [UInt8]) throws(CryptoError) -> [UInt8] {
        var buffer = plaintext + [UInt8](repeating: 0, count: aead.tagLength)
        let n = try iv.withBytes { (i) throws(CryptoError) -> Int in
            try aad.withBytes { (a) throws(CryptoError) -> Int in
                try buffer.withMutableBytes { (b) throws(CryptoError) -> Int in
                    try aead.seal(iv: i, aad: a, buffer: b, plaintextCount: plaintext.count)
                }
            }
        }
        return Array(buffer[0..<n])
    }

    func open(_ aead: any AEADCipher, iv: [UInt8], aad: [UInt8], _ sealed: [UInt8]) throws(CryptoError) -> [UInt8] {
        var buffer = sealed
        let n = try iv.withBytes { (i) throws(CryptoError) -> Int in
            try aad.withBytes { (a) throws(CryptoError) -> Int in
                try buffer.withMutableBytes { (b) throws(CryptoError) -> Int in
                    try aead.open(iv: i, aad: a, buffer: b, ciphertextCount: sealed.count)
                }
            }
        }
        return Array(buffer[0..<n])
    }

    // McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 4, 10 and 16
    // (AES-128/192/256, 60-byte plaintext, 20-byte AAD, 96-bit IV cafebabefacedbaddecaf888).
    // In RFC 4106 terms the IV splits into salt cafebabe || explicit IV facedbaddecaf888, and the
    // key material is key || salt.
    @Test(arguments: [
        (128, "feffe9928665731c6d6a8f9467308308",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
         "5bc94fbc3221a5db94fae95ae7121a47"),
        (192, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
         "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
         "2519498e80f1478f37ba55bd6d27618c"),
        (256, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"),
    ])
    func aesGCMMcGrewViega(bits: Int, key: String, ciphertext: String, tag: String) throws {
        let aead = try provider.makeAEAD(.aesGCM16(keyBits: bits), key: SecureBytes(hex(key) + hex("cafebabe")))
        let plaintext = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let iv = hex("facedbaddecaf888")
        let sealed = try seal(aead, iv: iv, aad: aad, plaintext)
        #expect(sealed == hex(ciphertext) + hex(tag))
        #expect(try open(aead, iv: iv, aad: aad, sealed) == plaintext)
        // Reused contexts: a second packet through the same instance gives the same answer.
        #expect(try seal(aead, iv: iv, aad: aad, plaintext) == sealed)
    }

    // RFC 7539 §2.8.2 (= RFC 8439 §2.8.2) AEAD_CHACHA20_POLY1305 vector. Its nonce
    // 07000000 || 4041424344454647 is, in RFC 7634 §2 terms, salt 07000000 || IV 4041424344454647.
    @Test func chacha20Poly1305RFC7539() throws {
        let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let aead = try provider.makeAEAD(.chacha20Poly1305, key: SecureBytes(key + hex("07000000")))
        let plaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        let aad = hex("50515253c0c1c2c3c4c5c6c7")
        let iv = hex("4041424344454647")
        let sealed = try seal(aead, iv: iv, aad: aad, plaintext)
        #expect(sealed == hex("""
            d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b
            1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
            3ff4def08e4b7a9de576d26586cec64b6116
            """) + hex("1ae10b594f09e26a7e902ecbd0600691"))
        #expect(try open(aead, iv: iv, aad: aad, sealed) == plaintext)
    }

    static let allAEADs: [EncryptionAlgorithm] = [.aesGCM16(keyBits: 128), .aesGCM16(keyBits: 192), .aesGCM16(keyBits: 256), .chacha20Poly1305]

    @Test(arguments: allAEADs)
    func rejectsTamperingAndTruncation(algorithm: EncryptionAlgorithm) throws {
        var random = SeededRandomSource(seed: 3)
        let aead = try provider.makeAEAD(algorithm, key: try random.secureBytes(algorithm.keyMaterialLength))
        let iv = try random.bytes(8)
        let aad: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 7]   // ESP SPI || sequence number
        let plaintext = try random.bytes(100)
        let sealed = try seal(aead, iv: iv, aad: aad, plaintext)

        var badTag = sealed
        badTag[badTag.count - 1] ^= 1
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: iv, aad: aad, badTag) } == .authenticationFailed)
        var badCiphertext = sealed
        badCiphertext[0] ^= 1
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: iv, aad: aad, badCiphertext) } == .authenticationFailed)
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: iv, aad: [0, 0, 0, 1, 0, 0, 0, 8], sealed) } == .authenticationFailed)
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: [0, 0, 0, 0, 0, 0, 0, 0], aad: aad, sealed) } == .authenticationFailed)
        // Dropping bytes moves the tag: authentication fails; fewer bytes than a tag: truncated.
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: iv, aad: aad, Array(sealed.dropLast())) } == .authenticationFailed)
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: iv, aad: aad, Array(sealed.prefix(15))) } == .truncated)
        #expect(errorCode { () throws(CryptoError) in try open(aead, iv: iv, aad: aad, []) } == .truncated)
        // A failed open wipes the plaintext area rather than leaving unauthenticated data.
        var buffer = badTag
        _ = errorCode { () throws(CryptoError) in
            try iv.withBytes { (i) throws(CryptoError) in
                try aad.withBytes { (a) throws(CryptoError) in
                    try buffer.withMutableBytes { (b) throws(CryptoError) in _ = try aead.open(iv: i, aad: a, buffer: b, ciphertextCount: badTag.count) }
                }
            }
        }
        #expect(buffer.prefix(plaintext.count).allSatisfy { $0 == 0 })
        // Wrong IV length and a buffer with no room for the tag.
        #expect(errorCode { () throws(CryptoError) in try seal(aead, iv: [1, 2, 3], aad: aad, plaintext) } == .malformed)
        var tight = plaintext
        #expect(errorCode { () throws(CryptoError) in
            try iv.withBytes { (i) throws(CryptoError) in
                try aad.withBytes { (a) throws(CryptoError) in
                    try tight.withMutableBytes { (b) throws(CryptoError) in _ = try aead.seal(iv: i, aad: a, buffer: b, plaintextCount: plaintext.count) }
                }
            }
        } == .bufferTooSmall)
        // Empty plaintext still authenticates.
        let empty = try seal(aead, iv: iv, aad: aad, [])
        #expect(empty.count == 16)
        #expect(try open(aead, iv: iv, aad: aad, empty) == [])
    }

    /// The fast path (OpenSSL's built-in method tables, no provider parameter lookups) and the
    /// provider's implementation are the same cipher: identical output for every length around the
    /// block size and a full packet, both AAD sizes ESP uses, packet after packet through reused
    /// contexts, and each opens what the other sealed.
    @Test(arguments: allAEADs)
    func builtInMethodMatchesProvider(algorithm: EncryptionAlgorithm) throws {
        var random = SeededRandomSource(seed: 11)
        let key = try random.secureBytes(algorithm.keyMaterialLength)
        let fast = try OpenSSLAEADCipher(algorithm: algorithm, key: key)
        let reference = try OpenSSLAEADCipher(algorithm: algorithm, key: key, builtInMethod: false)
        #expect(fast.usesBuiltInMethod, "this OpenSSL should offer the built-in method table")
        #expect(!reference.usesBuiltInMethod)
        for length in [0, 1, 15, 16, 17, 63, 64, 65, 1_400, 9_000] {
            for aadLength in [8, 12] {
                let iv = try random.bytes(8)
                let aad = try random.bytes(aadLength)
                let plaintext = try random.bytes(length)
                let sealed = try seal(fast, iv: iv, aad: aad, plaintext)
                #expect(try seal(reference, iv: iv, aad: aad, plaintext) == sealed, "length \(length), AAD \(aadLength)")
                #expect(try open(reference, iv: iv, aad: aad, sealed) == plaintext)
                #expect(try open(fast, iv: iv, aad: aad, sealed) == plaintext)
                var tampered = sealed
                tampered[tampered.count - 1] ^= 0x80
                #expect(errorCode { () throws(CryptoError) in try open(fast, iv: iv, aad: aad, tampered) } == .authenticationFailed)
                // A failed open leaves the context usable for the next packet.
                #expect(try open(fast, iv: iv, aad: aad, sealed) == plaintext)
            }
        }
    }

    @Test func rejectsWrongKeyLengthAndAlgorithm() {
        // Missing the 4-byte salt.
        #expect(errorCode { () throws(CryptoError) in try provider.makeAEAD(.aesGCM16(keyBits: 128), key: SecureBytes([UInt8](repeating: 1, count: 16))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeAEAD(.chacha20Poly1305, key: SecureBytes([UInt8](repeating: 1, count: 32))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeAEAD(.aesGCM16(keyBits: 100), key: SecureBytes([UInt8](repeating: 1, count: 16))) } == .unsupportedAlgorithm)
        #expect(errorCode { () throws(CryptoError) in try provider.makeAEAD(.aesCBC(keyBits: 128), key: SecureBytes([UInt8](repeating: 1, count: 16))) } == .unsupportedAlgorithm)
    }
}
