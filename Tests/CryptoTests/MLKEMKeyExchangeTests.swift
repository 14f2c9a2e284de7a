import ViaductCrypto
import CryptoCore
import TestSupport
import Testing

/// ML-KEM-768/1024 (FIPS 203) as IKEv2 key exchange methods 36/37. The known answers come from
/// an independent implementation (kyber-py 1.2.0, pure Python FIPS 203, checked against NIST's
/// ACVP vectors by its authors): for the seed d || z = 00 01 … 3f, the encapsulation key (as its
/// HMAC-SHA-256 under an empty key, to keep the file short), the ciphertext for m = 40 41 … 5f,
/// its shared secret K, and the implicit-rejection secret SHAKE256(z || c', 32) for that
/// ciphertext with its first bit flipped (FIPS 203 §6.3).
@Suite("ML-KEM key exchange")
struct MLKEMKeyExchangeTests {
    let provider = OpenSSLCryptoProvider()
    static let seed = SecureBytes((0..<64).map { UInt8($0) })

    struct Vector: Sendable, CustomTestStringConvertible {
        var group: KeyExchangeGroup
        var ekMAC: String
        var ciphertext: String
        var secret: String
        var rejection: String
        var testDescription: String { "ML-KEM group \(group.rawValue)" }
    }

    static let vectors = [
        Vector(group: .mlkem768, ekMAC: ek768MAC, ciphertext: ciphertext768, secret: secret768, rejection: rejection768),
        Vector(group: .mlkem1024, ekMAC: ek1024MAC, ciphertext: ciphertext1024, secret: secret1024, rejection: rejection1024),
    ]

    @Test(arguments: vectors)
    func knownAnswers(v: Vector) throws {
        let ke = try provider.makeKeyExchange(v.group, privateKey: Self.seed)
        #expect(ke.publicValue.count == v.group.publicValueLength)
        let mac = try provider.makePRF(.hmacSHA256).compute(key: [], data: ke.publicValue)
        #expect(mac == hex(v.ekMAC))
        var c = hex(v.ciphertext)
        #expect(c.count == v.group.responderValueLength)
        #expect(try ke.sharedSecret(peerPublicValue: c).revealed == hex(v.secret))
        c[0] ^= 1
        #expect(try ke.sharedSecret(peerPublicValue: c).revealed == hex(v.rejection))
    }

    /// The responder's encapsulation and the initiator's decapsulation agree, and a fresh
    /// encapsulation differs each time (it draws its own randomness).
    @Test(arguments: [KeyExchangeGroup.mlkem768, .mlkem1024])
    func responderAndInitiatorAgree(group: KeyExchangeGroup) throws {
        var random = SeededRandomSource(seed: 36)
        let initiator = try provider.makeKeyExchange(group, random: &random)
        let r1 = try provider.respondToKeyExchange(group, initiatorValue: initiator.publicValue, random: &random)
        let r2 = try provider.respondToKeyExchange(group, initiatorValue: initiator.publicValue, random: &random)
        #expect(r1.value.count == group.responderValueLength)
        #expect(r1.sharedSecret.count == 32)
        #expect(try initiator.sharedSecret(peerPublicValue: r1.value).constantTimeEquals(r1.sharedSecret))
        #expect(try initiator.sharedSecret(peerPublicValue: r2.value).constantTimeEquals(r2.sharedSecret))
        #expect(r1.value != r2.value)
    }

    /// FIPS 203 §7.2: an encapsulation key of the wrong length, or with a coefficient ≥ q = 3329
    /// (here the first 12-bit coefficient set to 4095), is refused, not encapsulated to.
    @Test(arguments: [KeyExchangeGroup.mlkem768, .mlkem1024])
    func responderRefusesBadEncapsulationKeys(group: KeyExchangeGroup) throws {
        var random = SeededRandomSource(seed: 37)
        let initiator = try provider.makeKeyExchange(group, random: &random)
        var outOfRange = initiator.publicValue
        outOfRange[0] = 0xFF
        outOfRange[1] |= 0x0F
        for bad in [[], Array(initiator.publicValue.dropLast()), initiator.publicValue + [0], outOfRange] {
            #expect(errorCode { () throws(CryptoError) in
                try provider.respondToKeyExchange(group, initiatorValue: bad, random: &random)
            } == .invalidPublicValue)
        }
    }

    @Test func seedMustBe64Bytes() {
        #expect(errorCode { () throws(CryptoError) in
            try provider.makeKeyExchange(.mlkem768, privateKey: SecureBytes([UInt8](repeating: 1, count: 32)))
        } == .invalidKeyLength)
    }

    // ML-KEM-768
    static let ek768MAC = "6d5028f8a07d1db6ce655caa6d3b5ae1a7f1e48da728dfddacae6b7c7ea87a07"
    static let ciphertext768 = """
        695a60d9c79f08343ed9ff5802582063c2ca3a648e543d924affbb39ef4de656591f0d7689e6626be7ea7fedaf134e2c27c6797c73a5edaf
        16808f141c8afcf31614e8ab665379573e4d0a2037cbf776048167ba53576001a2596402cf24b5d45362bc893ceaef3599f76b10812e6260
        02e66db5c5b0f2b9a7080e32db68dcc8d04c24f8461a58bb7e47efe670d740ad8af9820033845ef5f880f26f0e00adb2abef876f5270477e
        bbb02de6787ce72ca8785fb181f46c3ff7ae3787c25c68ccceefb3551875b9d77c4d439b6050eb382aacf9e744227e8c46e0a9a55838ea70
        34f5b4bcb61f1023a80186e795f4b3d8ae93988994224fa2d83e21711670da01e2b3e272f81616c0bc88cc46f641d16e0d0c0924cf4a4a5c
        1a9128c226d4918aa39bef94199dfffa33876ef0bfa0d9560d25f5ba08068d5271f32d2f9d88bcf53c7dcf811a8d5efe617f5e05700d3478
        d3cb7932528d1bceb240198a4cf8752caea3d387f00759a1356b7a5bf1838d26c3573e92e69f0f57c06e8c25459eb83e12cdd75f541a81ce
        710eafce2984783f30e37b327ff93b72297c6cd8c78c185ad53864952069d7d6c3bc633ae5e1a5925855df0b7e714bbde245f68822e0950c
        23c96d6111753a6ed0c46cce437f53b6bb708c1a3e25979733198d9879e3237e769471f922e579f37cfd641d29bdcfdbaa81edae09aeb046
        366e0376d04282d17778a8d54774e8c9be3c822b1e90cd8895abc1db8951b7687f63fee50ec43faf23730b15189e7c982b22d896a972da3c
        2ee529bb5fe63630c9c2ddfb9d1e4263a3d49af2832053d97efa2bd1782f25d7b864d6fb3708bfb9d4bc6c2cc6458d4f1459995db387e8b5
        03825a4496c735252aa630a1bcaa7a2674727396dcaf67030b53473951651dc26c22476bfd11d33206af0ff035ed035e34716c905e8ddf04
        3a4cdae145238d8f612dbcb75e879653bb9e2657dab58b944ff34f977fe15ce907f6814a5f92338774e6f2ab5257d24917decdd158c6d459
        4189f42a9b7fa9159a8af6aa825ba904654e08c894901298ffb27239ddea8283dd45b876036c0aecf03583ba444529757444c857fff6e4f8
        ed48f8a180adea54979a678f16dc6ac8edcc8e72ed08e96082f0ff4520dc635d4a846a3026fd86a48b1297e0cdfc06008793e783bde1c3fc
        6a71871e66b1feb560495817aabbdc59f0149f3e76add9b5bd6ce34734de7593ed607efb84c6e732960c744c908a9cb8947375a55b55fa2f
        0cd6742b75c10f65522d3844bed9b05bd441bbbea17cfbabdaef9847a0edd9c8329a762e34e5396014d88b4d344f250aaddefd917bb2120d
        1169c79cb09f59bad21850752c1099fff98b71bcdaab76f7063323e78faa521cd243f74ddc7f7775aa79960622e13580a6831e69bb7f2321
        d141d35da88317719078d4db319f308594c26836503f62362c40005022937c1298a928c040879661349a7b5362d0a75f2893b97a2600d533
        7239a70a6b64a457e6dfd5c74d462e7e790bb9ef3cee1461
        """
    static let secret768 = "9cddd089ffe70e3996e76f7c8d06746df34d07e8657bc0fcf2bb0e1c3084aea1"
    static let rejection768 = "dcfc80c6db46ff7028e3a4398651c063ae7a42c107a6dc8cb07141861698ab92"
    // ML-KEM-1024
    static let ek1024MAC = "f9dee9c899f6efbc46c9e251d5c19719fd175dd432662d8288e7cb3e1ff3721a"
    static let ciphertext1024 = """
        3ce00ba803c544b01150a120e4afe3c9f42df12ac1502c16e38895f7a99b5730fca6f8fbc5e07c9e9d0e1a41e1b53ec6157770e34864d67f
        6faff1ccc5ebe7b521b79673aedb5565c41fd01d7d70783c9b358772f75408a7de50ff3c0f9035b3ea2813d2f7eb040f5a1f75e9f1c4f375
        c323dbc34a6a7c2b2509bd839e6ad4efe08a2310b51bb871bd3ebabe9aea8b72aa72494188500906d1d4cac87fa342a3c03e5ea8895ab431
        198627309d6825f4f852e2dfe98b4617bc4a58be50bccde430f7ca93c87439e5301c94166755666990eef4674ca3861f23bee45c72c86f0d
        3e9edacef6434bcd30f284f6eb551555c3c3d79ff2a782787ef6e825a4a891d9b6f88da68cf3a96bc6cbb14880b9f744b71b6d548f170730
        76b0369fc35f8dd30979003348448115b094ac44c66fe6842e55ca134118be4108d836fcee73e1d9bc650f94b7b944cf7d1f0a6344712d3f
        290457b26a0b9860cc012b71dc2bccd1710736d4d69b2d9c6a2d2f4e7639979ca805303dc283e055d8caad9edf08bc6bdfd2207b3f26e35f
        1f79361505d224bc18f36d688d2dbcefeb12cc98f2f7755b3b9974f80be19cdb9c8a7468cf0218b1f1173871c5b491119ddaae7a84327d79
        52c0d9c09100d3bbec74d141b386bd03a4003be055db61260e99f74c17f6de4cc8ea7860c970356cbf656fbd39521ee0620444365de5d810
        0f41f40820b108f430eabdf3beee999bd29d39733268cfb9670fbb4f6c28d41aa9012b6f6129231a37ab8c7f9cd4e2c52a8da6f76806e1df
        416999b11bcdc3e57e15418dbe04fe2857c41411ca5ac4871aefa2645868a84739f8bc481d4aa674216df2039409bd588d78c62ef993592d
        a86abdb2560ce3d8f2bd48ab0a74418ccc75ccf0331faf1f2712cbb3d1ce0a4260b6487ecf1e05b6b8669df99d51b8cca088d4cd41ccf624
        347bcfb36a9883f7504710e246683b09ddc2a1dee31ceac2376609871085b057b2f1cc41e5e74c76b01d4ce796968a16e8e08c2c7497817d
        9d1bd1063daf5790bb331d25f6a434bff373d98719c555a640e983d8aef3a27cbdb58627fc2543088af450ddc4a2dae1936dbba16d6f6a67
        38ed51a36b93560623245547836ab6e5801bc854d6319ce486c634de2102e5f2006e5634b482e5cfcfd21a4953440267127a42fe7ff3f768
        d42124a9c98b3b513ebbc76740e06a1511d3e79765c2f9abbd4c12a10da8f0abf3f5062318b2104ac1c40866ae03ddbdf972ab7baeb0974a
        5db2a609dd0c02701f72db015fcfff6e451f49ee459cadc0be64f86803d595bbeab4f41ee7db7a5647f36e9b26861e21f72f3f1444f29983
        3aefe6dbf6f8bb394d9a25081eb17d0fb8ac5955dd809cbec31eeeb45ba3390184ae25e16f5d4dbc53203f10d1ebf8a5799f200948691453
        7b2b15114f8b701b3727209d621c4f885c1b81f238d8e7c8e5c943d47f31090247856cc8bc0dc3392adc7c4c6b56e21ec8f59962b0061724
        8735370e1888f3ab2145d42c1191fa70df98f157e4692dddf939a62bcb3d0599f73292b8e88456abf8cfd51a4271ea46b56a6c495c47d553
        a4acba045d3007dfeb8ae4be4f00c20e16bbc21cbbfc904a95de945c922a609a208ebb5a05668e601ce661b701c4ec565457a6c5124f7eea
        9420a80d81e1230ebe7e89ad78e4e2514eaf0f262416692f0711329762d1202b625fe2987539ca514947bb5e8895df355818c18e8f673246
        533b405f98e33c111cb4772fa16fed409b290ceb4f61240a8541ab78b461823f44cb5756d7539c5ce0f276c64d741ce9ba64c2d0377da5c4
        f2624c5afbebb4f93d8e7c6686e206adedb910b8e0185e29b47095e1d65c2c908087efafcf71fe852b0462b99a2628595b97eb0eb2d9c670
        e2d7ed708151bbc2f2305e35cb3ba1ac99ab9fc65c8e07922984df8dc144bbcb477045a663452c7bc989b3b46a84e00f92c6348b01f522ab
        60e47ef2863991d0022ed6304c7f3954ab61490d736aa5c2d1bd813b8461341704355ebaf8e70246954b5ab42f07293486a1835e39a8754c
        47a310ad37e2dcaa6849b80b47722b15cad6ecdac2c060f37b4fd506a08fbf6888ef70a3a9cfb79925db3193b514c17cb44d214978055577
        364099f016933ed9858273222b646e1db152b0004df451f503c499642a26c80e0da50e149be1bca32955093a8e2b42ed2b73b5484efc36c7
        """
    static let secret1024 = "0ad8d1ea1b8dd788979b4379581218df9321bdce5567eca42ae6be7d395f1a54"
    static let rejection1024 = "8f2c880890996c587aa500cf8b6da03372de706a9f96075744bb0956ea6fbaac"
}
