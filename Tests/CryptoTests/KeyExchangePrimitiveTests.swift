import ViaductCrypto
import CryptoCore
import TestSupport
import Testing

@Suite("Key exchange primitives")
struct KeyExchangePrimitiveTests {
    let provider = OpenSSLCryptoProvider()

    // RFC 5903 §8.1, 256-Bit Random ECP Group: initiator i, g^i, responder g^r, shared girx.
    @Test func ecp256RFC5903() throws {
        let ke = try provider.makeKeyExchange(.ecp256, privateKey: SecureBytes(hex(
            "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433")))
        #expect(ke.publicValue == hex("""
            DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180
            5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3
            """))
        let secret = try ke.sharedSecret(peerPublicValue: hex("""
            D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63
            56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB
            """))
        #expect(secret.revealed == hex("D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"))
        // The responder side of the same vector (private r) reaches the same secret.
        let responder = try provider.makeKeyExchange(.ecp256, privateKey: SecureBytes(hex(
            "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53")))
        #expect(try responder.sharedSecret(peerPublicValue: ke.publicValue).revealed == secret.revealed)
    }

    // RFC 5903 §8.2, 384-Bit Random ECP Group.
    @Test func ecp384RFC5903() throws {
        let ke = try provider.makeKeyExchange(.ecp384, privateKey: SecureBytes(hex("""
            099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655
            E35B5380 41E649EE 3FAEF896 783AB194
            """)))
        #expect(ke.publicValue == hex("""
            667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6
            DE3AC808 ACB4BDB4 C88732AE E95F41AA
            9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E
            EB9FCFF3 C2C947DA E69B4C63 4573A81C
            """))
        let secret = try ke.sharedSecret(peerPublicValue: hex("""
            E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D
            0D1AC43A 0336DEF9 6FDA41D0 774A3571
            DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF
            F83FA401 42209DFF 5EAAD96D B9E6386C
            """))
        #expect(secret.revealed == hex("""
            11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4
            D6031355 69B9E9D0 9CF5D4A2 70F59746
            """))
    }

    // P-521 (group 21). Independently derived with Python `cryptography` 48.0 (OpenSSL-free
    // reasoning aside, a different implementation path from ours):
    //   i = int.from_bytes(sha512(b'viaduct p521 initiator').digest(), 'big') >> 1
    //   r = int.from_bytes(sha512(b'viaduct p521 responder').digest(), 'big') >> 1
    //   ec.derive_private_key(i, SECP521R1()); x, y each to_bytes(66); exchange(ECDH(), g^r)
    // It also exercises the 66-byte zero padding of i and of the coordinates.
    @Test func ecp521IndependentVector() throws {
        let ke = try provider.makeKeyExchange(.ecp521, privateKey: SecureBytes(hex(
            "0000613083b018fe279ef5f7f806df0cfd81735cd2dedad686439731abe670395f724a2bb7e5cae3646cc71db9e2b54a187cb5f0050070de5ae0cf61a4b84bd3c538")))
        #expect(ke.publicValue == hex(
            "0109b5c35a1e3265eb80e0d53fff88ef78332d047e7e8dfebb3dacb346842e2252f8c8b9fe5c2ea161c672ea470873fa7ce15a7eb05c993496ad47b25f58782ee912002c38fb238a9b48aad242841d922313cb67a91bf06a37d9aab53dc77253d553c69cf540325de5c11ca5dcc728090ab938c421a3651006ad683936e3e0a202fbcd91"))
        let secret = try ke.sharedSecret(peerPublicValue: hex(
            "0041933d4fd7de20947409e13e6f9d63d1798e5abc9bcb5667d816d8dd4ba10049f202a3b02de9a3b4b67f1e75927b7a6b6af019958c725d03008e05a1a4cba11e2a01b0de99a543391d95ef4f6576c57636b988fe26ad1f9a5d68111ed0386a3df194931e985c3d6241bee61478b79df878a1804a9c73ccfb36ac9078325be5141291d7"))
        #expect(secret.revealed == hex(
            "010641abed47530a903d61accdd558a93111985cd78f9811c02aac4abd5df13f9d2d2ac86bf44fa12828c76d9589dc86caf45e88080f05c490ec7c68dc976020c9c8"))
    }

    // RFC 7748 §6.1 (Curve25519 Diffie-Hellman).
    @Test func x25519RFC7748() throws {
        let alice = try provider.makeKeyExchange(.curve25519, privateKey: SecureBytes(hex(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")))
        let bob = try provider.makeKeyExchange(.curve25519, privateKey: SecureBytes(hex(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))
        #expect(alice.publicValue == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
        #expect(bob.publicValue == hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        let k = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        #expect(try alice.sharedSecret(peerPublicValue: bob.publicValue).revealed == k)
        #expect(try bob.sharedSecret(peerPublicValue: alice.publicValue).revealed == k)
    }

    // RFC 7748 §6.2 (Curve448 Diffie-Hellman).
    @Test func x448RFC7748() throws {
        let alice = try provider.makeKeyExchange(.curve448, privateKey: SecureBytes(hex(
            "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b")))
        let bob = try provider.makeKeyExchange(.curve448, privateKey: SecureBytes(hex(
            "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d")))
        #expect(alice.publicValue == hex("9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0"))
        #expect(bob.publicValue == hex("3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609"))
        let k = hex("07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d")
        #expect(try alice.sharedSecret(peerPublicValue: bob.publicValue).revealed == k)
        #expect(try bob.sharedSecret(peerPublicValue: alice.publicValue).revealed == k)
    }

    // MODP group 2 (RFC 2409 §6.2 prime, g = 2). Independently derived with Python's built-in
    // big integers (no crypto library):
    //   xi = int.from_bytes(sha512(b'viaduct modp initiator').digest(), 'big')   (same for xr)
    //   gi = pow(2, xi, p).to_bytes(128, 'big'); gir = pow(pow(2, xr, p), xi, p).to_bytes(128, 'big')
    @Test func modp1024IndependentVector() throws {
        let ke = try provider.makeKeyExchange(.modp1024, privateKey: SecureBytes(hex(
            "234fbac539333540c51669eb7d20cd1a5ef6489a779b8cea7914579d8e49c9bd7138ac2811db4e2820a6a1c5a5be2046cc18800eb65fcdf14d234f36258f50e4")))
        #expect(ke.publicValue == hex(
            "9846096fa337627a923f0bdc1a30d6e4923bbdc397f8c830328624e65e264fca7b2066641ac9b7690b781e6d635902b6cccf141b9b1ac3a6a1ff67b40677527b47b621900a7dc71bb03938bcd9eaa9f0e2aabbe6b0b42a7d39ec5372ae66e427b6686e43220a4a0cd94ad6d7f81b56e1f3d17b4a74bf5e36119a1c827afa3407"))
        let secret = try ke.sharedSecret(peerPublicValue: hex(
            "98c2a68cbba06ef7ed2aebc2406e385d07034724e7b7c3e865207762e1c239553fc2cd3b14d7736e784c0869f37c39c875a786a428186f533eac4eac1e65ec8eab82f21b137092f3fe5fe8163070cebd3a74294ca8a85635fac403a6c981d06b2259d57e55251d2050ac64fe4a81e95b074ffbc2e838a543c0c837e41a2521ad"))
        #expect(secret.revealed == hex(
            "0646f0433e91e97cdcdae77bcd44d6b289c236300aa863212eab27f4dd4af7a119481fce71a1a6524ea316e5a07bb9fce685825c451fc9d3741c08bf62c7cf37ed4afefe42a32dd39b9d0d57b4c7ea6f197e8bc64b6503b40417147a3156dc73ed34f2a580178e3297b9fd71121f984e96c1b8a29c311bf8bf9710ad58ad52ec"))
    }

    /// Every group agrees with itself from freshly drawn (seeded, deterministic) keys, through the
    /// responder's half as the engine uses it, and the KE data has the payload lengths of RFC 7296
    /// §3.4 / RFC 5903 §7 / RFC 8031 §3.1 / FIPS 203 (ML-KEM: encapsulation key, then ciphertext).
    @Test(arguments: KeyExchangeGroup.allCases)
    func agreement(group: KeyExchangeGroup) throws {
        var random = SeededRandomSource(seed: UInt64(group.rawValue))
        let a = try provider.makeKeyExchange(group, random: &random)
        let b = try provider.respondToKeyExchange(group, initiatorValue: a.publicValue, random: &random)
        #expect(a.publicValue.count == group.publicValueLength)
        #expect(b.value.count == group.responderValueLength)
        #expect(a.publicValue != b.value)
        let s1 = try a.sharedSecret(peerPublicValue: b.value)
        #expect(s1.constantTimeEquals(b.sharedSecret))
        let expected = group.isKEM ? 32 : (19...21).contains(group.rawValue) ? group.publicValueLength / 2 : group.publicValueLength
        #expect(s1.count == expected)
    }

    /// The production random source also yields working keys.
    @Test func opensslRandomKeys() throws {
        var random = OpenSSLRandomSource()
        let a = try provider.makeKeyExchange(.curve25519, random: &random)
        let b = try provider.makeKeyExchange(.curve25519, random: &random)
        #expect(try a.sharedSecret(peerPublicValue: b.publicValue).revealed
                == b.sharedSecret(peerPublicValue: a.publicValue).revealed)
    }

    // RFC 6989 §2: wrong lengths are refused for every group.
    @Test(arguments: KeyExchangeGroup.allCases)
    func rejectsWrongLength(group: KeyExchangeGroup) throws {
        var random = SeededRandomSource(seed: 7)
        let ke = try provider.makeKeyExchange(group, random: &random)
        for length in [0, group.responderValueLength - 1, group.responderValueLength + 1] {
            let value = [UInt8](repeating: 0x42, count: length)
            #expect(errorCode { () throws(CryptoError) in try ke.sharedSecret(peerPublicValue: value) } == .invalidPublicValue)
        }
    }

    // RFC 6989 §2.1: MODP y must satisfy 1 < y < p-1; 0, 1, p-1 and p itself are refused.
    @Test(arguments: [KeyExchangeGroup.modp1024, .modp2048])
    func modpRejectsDegenerateValues(group: KeyExchangeGroup) throws {
        var random = SeededRandomSource(seed: 9)
        let ke = try provider.makeKeyExchange(group, random: &random)
        let length = group.publicValueLength
        let zero = [UInt8](repeating: 0, count: length)
        var one = zero
        one[length - 1] = 1
        // p for both groups is 2^n - 2^(n-64) - 1 + 2^64 * floor(...): its last 8 bytes are all 0xFF.
        let p: [UInt8] = group == .modp1024
            ? hex("ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece65381ffffffffffffffff")
            : ke.publicValue.map { _ in 0xFF }   // 2^2048 - 1 > p
        var pMinusOne = p
        pMinusOne[length - 1] = 0xFE
        for bad in [zero, one, pMinusOne, p] {
            #expect(errorCode { () throws(CryptoError) in try ke.sharedSecret(peerPublicValue: bad) } == .invalidPublicValue)
        }
        // p-2 is inside the range and accepted.
        if group == .modp1024 {
            var pMinusTwo = p
            pMinusTwo[length - 1] = 0xFD
            #expect(errorCode { () throws(CryptoError) in try ke.sharedSecret(peerPublicValue: pMinusTwo) } == nil)
        }
    }

    // RFC 6989 §2.3 / RFC 5903 §7: off-curve points and the (unencodable) identity are refused.
    @Test(arguments: [KeyExchangeGroup.ecp256, .ecp384, .ecp521])
    func ecpRejectsOffCurvePoints(group: KeyExchangeGroup) throws {
        var random = SeededRandomSource(seed: 11)
        let ke = try provider.makeKeyExchange(group, random: &random)
        var tweaked = ke.publicValue
        tweaked[tweaked.count - 1] ^= 0x01        // valid x, wrong y
        let allZero = [UInt8](repeating: 0, count: group.publicValueLength)   // "(0,0)", the usual identity stand-in
        let allAA = [UInt8](repeating: 0xAA, count: group.publicValueLength)
        for bad in [tweaked, allZero, allAA] {
            #expect(errorCode { () throws(CryptoError) in try ke.sharedSecret(peerPublicValue: bad) } == .invalidPublicValue)
        }
    }

    // RFC 7748 §6 / RFC 8031 §2.3: small-order points give an all-zero secret and are refused.
    @Test func montgomeryRejectsSmallOrderPoints() throws {
        var random = SeededRandomSource(seed: 13)
        let x25519 = try provider.makeKeyExchange(.curve25519, random: &random)
        let x448 = try provider.makeKeyExchange(.curve448, random: &random)
        var one25519 = [UInt8](repeating: 0, count: 32)
        one25519[0] = 1
        // u = 0 and u = 1 are of small order on both curves.
        for bad in [[UInt8](repeating: 0, count: 32), one25519,
                    // RFC 7748-listed order-8 point (from the curve25519 small-order blacklist).
                    hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] {
            #expect(errorCode { () throws(CryptoError) in try x25519.sharedSecret(peerPublicValue: bad) } == .invalidPublicValue)
        }
        var one448 = [UInt8](repeating: 0, count: 56)
        one448[0] = 1
        for bad in [[UInt8](repeating: 0, count: 56), one448] {
            #expect(errorCode { () throws(CryptoError) in try x448.sharedSecret(peerPublicValue: bad) } == .invalidPublicValue)
        }
    }

    @Test func rejectsBadPrivateKeys() {
        #expect(errorCode { () throws(CryptoError) in try provider.makeKeyExchange(.ecp256, privateKey: SecureBytes([1, 2, 3])) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeKeyExchange(.ecp256, privateKey: SecureBytes([UInt8](repeating: 0, count: 32))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeKeyExchange(.ecp256, privateKey: SecureBytes([UInt8](repeating: 0xFF, count: 32))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeKeyExchange(.curve25519, privateKey: SecureBytes([UInt8](repeating: 1, count: 31))) } == .invalidKeyLength)
        #expect(errorCode { () throws(CryptoError) in try provider.makeKeyExchange(.modp2048, privateKey: SecureBytes([1])) } == .invalidKeyLength)
    }
}
