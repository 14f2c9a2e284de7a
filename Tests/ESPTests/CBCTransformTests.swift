import ViaductCrypto
import CryptoCore
@testable import ESP
import NetTypes
import TestSupport
import Testing

/// The CBC + HMAC suites the userspace data plane carries: AES-CBC (RFC 3602) with
/// HMAC-SHA-256-128 / -384-192 / -512-256 (RFC 4868).
let cbcSuites: [(EncryptionAlgorithm, IntegrityAlgorithm)] = [
    (.aesCBC(keyBits: 128), .hmacSHA256_128), (.aesCBC(keyBits: 256), .hmacSHA256_128),
    (.aesCBC(keyBits: 256), .hmacSHA384_192), (.aesCBC(keyBits: 256), .hmacSHA512_256),
]

/// A random source that hands out a fixed byte string, over and over: known-answer tests pin
/// the IV with it.
struct RepeatingRandomSource: RandomSource {
    let bytes: [UInt8]
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        for i in 0..<buffer.count { buffer[i] = bytes[i % bytes.count] }
    }
    mutating func split() -> any RandomSource { self }
}

/// A random source that always fails.
struct BrokenRandomSource: RandomSource {
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        throw CryptoError(.library, "no entropy")
    }
    mutating func split() -> any RandomSource { self }
}

func integrityKey(_ algorithm: IntegrityAlgorithm, seed: UInt64) -> SecureBytes {
    var rng = SplitMix64(seed: seed)
    return SecureBytes((0..<algorithm.keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

func makeCBCPair(_ suite: (EncryptionAlgorithm, IntegrityAlgorithm), spi: UInt32 = 0x1234_5678, esn: Bool = false,
                 random: any RandomSource = SeededRandomSource(seed: 9), seed: UInt64 = 1) throws -> (out: ESPOutboundSA, in: ESPInboundSA) {
    let provider = OpenSSLCryptoProvider()
    let key = testKey(suite.0, seed: seed), ikey = integrityKey(suite.1, seed: seed + 100)
    let out = try ESPOutboundSA(spi: ESPSPI(spi), cipher: provider.makeCBC(suite.0, key: key),
                                integrity: provider.makeIntegrity(suite.1, key: ikey),
                                extendedSequenceNumbers: esn, random: random)
    let inbound = try ESPInboundSA(spi: ESPSPI(spi), cipher: provider.makeCBC(suite.0, key: key),
                                   integrity: provider.makeIntegrity(suite.1, key: ikey), extendedSequenceNumbers: esn)
    return (out, inbound)
}

@Suite("ESP with AES-CBC and HMAC-SHA-2")
struct CBCTransformTests {
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    /// RFC 4303 §2 layout, §2.4 padding, §3.3.2 encrypt-then-MAC, §2.2.1/§3.3.2.1 ESN, rebuilt
    /// independently with the primitives, whose own known answers are RFC 3602 §4 Cases #1–#4
    /// (CBCPrimitiveTests) and RFC 4868 §2.7.2 AUTH256-1/384-1/512-1 (MACPrimitiveTests). Key and
    /// IV are RFC 3602 §4 Case #4's.
    @Test("known answer: SPI | Seq | IV | AES-CBC(inner | 1,2,3… | padlen | NH) | HMAC over all that (+ Seq high with ESN)",
          arguments: [false, true])
    func knownAnswer(esn: Bool) throws {
        let key = SecureBytes(hex("56e47a38c5598974bc46903dba290349"))
        let iv = hex("8ce82eefbea0da3c44699ed7db51b7d9")
        let ikey = SecureBytes([UInt8](repeating: 0x0b, count: 32))   // RFC 4868 §2.7.2.1 AUTH256-1's key
        let provider = OpenSSLCryptoProvider()
        let out = try ESPOutboundSA(spi: ESPSPI(0x4321), cipher: provider.makeCBC(.aesCBC(keyBits: 128), key: key),
                                    integrity: provider.makeIntegrity(.hmacSHA256_128, key: ikey),
                                    extendedSequenceNumbers: esn, random: RepeatingRandomSource(bytes: iv))
        if esn { out.skipSequenceNumbers(to: 0x1_0000_0004) }
        let inner = ipv4Packet(total: 61)
        let packet = try seal(out, inner, headroom: 24, tailroom: 49)
        let sequence: UInt64 = esn ? 0x1_0000_0005 : 1

        // 61 + 2 = 63 → one byte of padding to 64 (RFC 4303 §2.4 with a 16-byte block).
        let plaintext = inner + [1, 1, 4]
        var ciphertext = plaintext
        let cbc = try provider.makeCBC(.aesCBC(keyBits: 128), key: key)
        try iv.withBytes { (i) throws(CryptoError) in
            try ciphertext.withMutableBytes { (b) throws(CryptoError) in try cbc.encrypt(iv: i, buffer: b) }
        }
        let header = Self.be32(0x4321) + Self.be32(UInt32(truncatingIfNeeded: sequence)) + iv
        let covered = header + ciphertext + (esn ? Self.be32(UInt32(sequence >> 32)) : [])
        var icv = [UInt8](repeating: 0, count: 16)
        let mac = try provider.makeIntegrity(.hmacSHA256_128, key: ikey)
        try covered.withBytes { (d) throws(CryptoError) in
            try icv.withMutableBytes { (o) throws(CryptoError) in try mac.computeICV(over: d, into: o) }
        }
        #expect(packet == header + ciphertext + icv)
        #expect(packet.count == out.encapsulatedLength(innerLength: inner.count))

        // And the receiving side takes the independently built packet.
        if !esn {
            let inbound = try ESPInboundSA(spi: ESPSPI(0x4321), cipher: provider.makeCBC(.aesCBC(keyBits: 128), key: key),
                                           integrity: provider.makeIntegrity(.hmacSHA256_128, key: ikey), extendedSequenceNumbers: false)
            #expect(try open(inbound, header + ciphertext + icv) == inner)
        }
    }

    @Test("round trip for every suite, IPv4 and IPv6, every padding length", arguments: cbcSuites.indices)
    func roundTrip(suite: Int) throws {
        let (out, inbound) = try makeCBCPair(cbcSuites[suite])
        let tail = 15 + 2 + cbcSuites[suite].1.icvLength
        for total in 20...(20 + 33) {
            let inner = ipv4Packet(total: total, id: UInt16(total))
            let packet = try seal(out, inner, headroom: 24, tailroom: tail)
            #expect((packet.count - 24 - cbcSuites[suite].1.icvLength) % 16 == 0)
            #expect(try open(inbound, packet) == inner)
        }
        let v6 = ipv6Packet(total: 1280)
        #expect(try open(inbound, try seal(out, v6, headroom: 24, tailroom: tail)) == v6)
        #expect(inbound.statistics.packetsIn == 35 && out.statistics.packetsOut == 35)
    }

    @Test("each packet gets a fresh IV from the random source (RFC 3602 §2.4)")
    func freshIVs() throws {
        let (out, _) = try makeCBCPair(cbcSuites[1])
        var ivs: Set<[UInt8]> = []
        for _ in 0..<600 {   // more than one 4 KB pool of IVs
            let packet = try seal(out, ipv4Packet(total: 40), headroom: 24, tailroom: 49)
            ivs.insert(Array(packet[8..<24]))
        }
        #expect(ivs.count == 600)
    }

    @Test("a random source that fails sends nothing and spends no sequence number")
    func brokenRandom() throws {
        let (out, _) = try makeCBCPair(cbcSuites[0], random: BrokenRandomSource())
        #expect(errorCode { try seal(out, ipv4Packet(total: 40), headroom: 24, tailroom: 49) } == .cryptoFailure)
        #expect(out.sequenceNumber == 0 && out.statistics.packetsOut == 0)
    }

    @Test("a flipped bit anywhere (header, IV, ciphertext, ICV) is dropped as bad-icv and counted, before decryption",
          arguments: cbcSuites.indices)
    func tamper(suite: Int) throws {
        let (out, inbound) = try makeCBCPair(cbcSuites[suite])
        let inner = ipv4Packet(total: 100)
        let packet = try seal(out, inner, headroom: 24, tailroom: 49)
        var dropped: UInt64 = 0
        // Not the SPI (another SA's) and not the sequence number's reconstruction: every other byte.
        for index in 8..<packet.count {
            var bad = packet
            bad[index] ^= 0x01
            var buffer = bad
            let code = errorCode {
                try buffer.withMutableBytes { (b) throws(ESPError) in try inbound.decapsulate(b, packet: 0..<b.count) }
            }
            #expect(code == .authenticationFailed)
            dropped += 1
            // The ciphertext was left as it came: nothing unauthenticated was decrypted.
            #expect(Array(buffer[24..<(packet.count - cbcSuites[suite].1.icvLength)]) == Array(bad[24..<(packet.count - cbcSuites[suite].1.icvLength)]))
        }
        #expect(inbound.statistics[.badICV] == dropped)
        // The authentic packet still gets through: failures spent no sequence number.
        #expect(try open(inbound, packet) == inner)
    }

    @Test("a flipped sequence number fails the ICV too (it is covered, RFC 4303 §3.3.2)")
    func tamperedSequence() throws {
        let (out, inbound) = try makeCBCPair(cbcSuites[0])
        var packet = try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 49)
        packet[7] ^= 0x02
        #expect(errorCode { try open(inbound, packet) } == .authenticationFailed)
    }

    @Test("replay: the same packet twice is dropped as replayed; old ones left of the window as too old")
    func replay() throws {
        let (out, inbound) = try makeCBCPair(cbcSuites[1])
        let first = try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 49)
        #expect(try open(inbound, first) != nil)
        #expect(errorCode { try open(inbound, first) } == .replayed)
        for _ in 0..<ReplayWindow.defaultSize + 1 {
            _ = try open(inbound, try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 49))
        }
        #expect(errorCode { try open(inbound, first) } == .tooOld)
        #expect(inbound.statistics[.replay] == 2)
    }

    @Test("ESN traffic crosses 2^32; the high half is covered by the ICV, so one-sided ESN fails", arguments: cbcSuites.indices)
    func extendedSequenceNumbers(suite: Int) throws {
        let (out, inbound) = try makeCBCPair(cbcSuites[suite], esn: true)
        for _ in 0..<3 { _ = try open(inbound, try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 49)) }
        // RFC 4303 Appendix A: the receiver follows the counter half a cycle at a time.
        out.skipSequenceNumbers(to: 1 << 31)
        _ = try open(inbound, try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 49))
        out.skipSequenceNumbers(to: UInt64(UInt32.max) - 2)
        for _ in 0..<6 {
            let inner = ipv4Packet(total: 80)
            #expect(try open(inbound, try seal(out, inner, headroom: 24, tailroom: 49)) == inner)
        }
        #expect(out.sequenceNumber == UInt64(UInt32.max) + 4)
        #expect(inbound.replayWindow.highest == UInt64(UInt32.max) + 4)

        // One-sided ESN: below 2^32 both sides take Seq high as 0; past it the ICVs differ.
        let (esnOut, _) = try makeCBCPair(cbcSuites[suite], esn: true)
        let (_, plainIn) = try makeCBCPair(cbcSuites[suite], esn: false)
        esnOut.skipSequenceNumbers(to: 1 << 32)
        #expect(errorCode { try open(plainIn, try seal(esnOut, ipv4Packet(total: 60), headroom: 24, tailroom: 49)) } == .authenticationFailed)
    }

    @Test("a ciphertext that is not whole blocks, or too short, is malformed; not decrypted")
    func malformed() throws {
        let (out, inbound) = try makeCBCPair(cbcSuites[0])
        let packet = try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 49)
        #expect(errorCode { try open(inbound, Array(packet.dropLast())) } == .truncated)
        #expect(errorCode { try open(inbound, Array(packet[0..<(24 + 16 + 15)])) } == .truncated)
        #expect(inbound.minimumPacketLength == 8 + 16 + 16 + 16)
        #expect(inbound.statistics[.malformed] == 2)
    }

    @Test("head- and tailroom: the CBC header is 24 bytes and the trailer up to 15 + 2 + ICV")
    func room() throws {
        let (out, _) = try makeCBCPair(cbcSuites[3])
        #expect(out.headerLength == 24 && out.maximumTrailerLength == 15 + 2 + 32)
        #expect(errorCode { try seal(out, ipv4Packet(total: 60), headroom: 23, tailroom: 49) } == .insufficientHeadroom)
        // 60 + 2 → 64: 2 bytes of padding, then 32 of ICV.
        #expect(errorCode { try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 2 + 2 + 31) } == .insufficientTailroom)
        #expect(errorCode { try seal(out, ipv4Packet(total: 60), headroom: 24, tailroom: 2 + 2 + 32) } == nil)
        #expect(out.sequenceNumber == 1)
    }

    @Test("SAs refuse 3DES, HMAC-SHA1/MD5 and reserved SPIs")
    func configuration() throws {
        let provider = OpenSSLCryptoProvider()
        let des = try provider.makeCBC(.tripleDES, key: SecureBytes([UInt8](repeating: 3, count: 24)))
        let aes = try provider.makeCBC(.aesCBC(keyBits: 128), key: SecureBytes([UInt8](repeating: 3, count: 16)))
        let sha256 = try provider.makeIntegrity(.hmacSHA256_128, key: SecureBytes([UInt8](repeating: 3, count: 32)))
        let sha1 = try provider.makeIntegrity(.hmacSHA1_96, key: SecureBytes([UInt8](repeating: 3, count: 20)))
        let random = SeededRandomSource(seed: 1)
        #expect(errorCode { try ESPOutboundSA(spi: ESPSPI(0x1000), cipher: des, integrity: sha256, extendedSequenceNumbers: false, random: random) } == .invalidConfiguration)
        #expect(errorCode { try ESPInboundSA(spi: ESPSPI(0x1000), cipher: aes, integrity: sha1, extendedSequenceNumbers: false) } == .invalidConfiguration)
        #expect(errorCode { try ESPInboundSA(spi: ESPSPI(12), cipher: aes, integrity: sha256, extendedSequenceNumbers: false) } == .invalidConfiguration)
        #expect(errorCode { try ESPOutboundSA(spi: ESPSPI(0x1000), cipher: aes, integrity: sha256, extendedSequenceNumbers: false, random: random) } == nil)
    }
}
