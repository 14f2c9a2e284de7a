// RFC 4303 §3.3 / §3.4 framing, RFC 4106 §3.1 / §5 and RFC 7634 §2 IV and AAD, through the real
// transforms: round trips, padding, ESN, exhaustion, lifetimes, buffer layout, TFC.
import ViaductCrypto
import CryptoCore
@testable import ESP
import NetTypes
import Testing

@Suite("ESP transform")
struct TransformTests {
    static let ipv4Sizes = [20, 28, 29, 30, 31, 32, 84, 576, 1400, 9000]
    static let ipv6Sizes = [40, 41, 42, 43, 44, 1280, 9000]

    @Test("round trip for every AEAD, IPv4 and IPv6, each padding length", arguments: allAEADs)
    func roundTrip(algorithm: EncryptionAlgorithm) throws {
        let (out, inbound) = try makePair(algorithm, seed: 7)
        let packets = Self.ipv4Sizes.map { ipv4Packet(total: $0) } + Self.ipv6Sizes.map { ipv6Packet(total: $0) }
        for (index, inner) in packets.enumerated() {
            let esp = try seal(out, inner)
            #expect(esp.count == out.encapsulatedLength(innerLength: inner.count))
            // SPI, sequence number, IV = sequence number (mask 0), ciphertext 4-aligned.
            #expect(Array(esp[0..<4]) == [0x12, 0x34, 0x56, 0x78])
            #expect(Array(esp[4..<8]) == [0, 0, 0, UInt8(index + 1)])
            #expect(Array(esp[8..<16]) == [0, 0, 0, 0, 0, 0, 0, UInt8(index + 1)])
            #expect((esp.count - 16 - 16) % 4 == 0)
            #expect(esp.count - 32 - inner.count >= 2 && esp.count - 32 - inner.count <= 5)
            #expect(try open(inbound, esp) == inner)
        }
        #expect(out.statistics.packetsOut == UInt64(packets.count))
        #expect(inbound.statistics.packetsIn == UInt64(packets.count))
        #expect(inbound.statistics.bytesIn == out.statistics.bytesOut)
        #expect(out.statistics.bytesOut == UInt64(packets.map(\.count).reduce(0, +)))
    }

    @Test("padding is 1, 2, 3, ... to a 4-byte boundary; Next Header 4 or 41 (RFC 4303 §2.4, §2.6)")
    func paddingAndNextHeader() throws {
        let algorithm = EncryptionAlgorithm.aesGCM16(keyBits: 128)
        let (out, _) = try makePair(algorithm, seed: 3)
        let raw = try OpenSSLCryptoProvider().makeAEAD(algorithm, key: testKey(algorithm, seed: 3))
        for inner in [ipv4Packet(total: 28), ipv4Packet(total: 29), ipv4Packet(total: 30), ipv4Packet(total: 31), ipv6Packet(total: 41)] {
            var esp = try seal(out, inner)
            let ctCount = esp.count - 16
            let ptCount = try esp.withMutableBytes { (b) throws(CryptoError) -> Int in
                try raw.open(iv: UnsafeRawBufferPointer(rebasing: b[8..<16]), aad: UnsafeRawBufferPointer(rebasing: b[0..<8]),
                             buffer: UnsafeMutableRawBufferPointer(rebasing: b[16...]), ciphertextCount: ctCount)
            }
            let plaintext = Array(esp[16..<(16 + ptCount)])
            let expectedPad = (4 - (inner.count + 2) % 4) % 4
            #expect(Int(plaintext[plaintext.count - 2]) == expectedPad)
            let nextHeader: UInt8 = inner[0] >> 4 == 4 ? 4 : 41
            #expect(plaintext.last == nextHeader)
            let padding: [UInt8] = Array(plaintext[inner.count..<(inner.count + expectedPad)])
            let counting: [UInt8] = (0..<expectedPad).map { UInt8($0 + 1) }
            #expect(padding == counting)
            #expect(Array(plaintext[0..<inner.count]) == inner)
        }
    }

    @Test("the IV is sequence XOR mask, never repeated; the inbound side does not care about the mask")
    func ivMask() throws {
        let mask: UInt64 = 0x0123_4567_89ab_cdef
        let (out, inbound) = try makePair(.chacha20Poly1305, ivMask: mask)
        var seen = Set<[UInt8]>()
        for n in 1...50 {
            let esp = try seal(out, ipv4Packet(total: 60))
            let iv = Array(esp[8..<16])
            let expected = UInt64(n) ^ mask
            #expect(iv == (0..<8).map { UInt8(truncatingIfNeeded: expected >> (56 - 8 * $0)) })
            #expect(seen.insert(iv).inserted)
            #expect(try open(inbound, esp) == ipv4Packet(total: 60))
        }
    }

    @Test("headroom beyond the header is left alone; the ESP packet starts right before the inner packet")
    func layout() throws {
        let (out, inbound) = try makePair()
        let inner = ipv4Packet(total: 100)
        var buffer = [UInt8](repeating: 0xEE, count: 64 + inner.count + 64)
        buffer.replaceSubrange(64..<164, with: inner)
        let range = try buffer.withMutableBytes { (b) throws(ESPError) in try out.encapsulate(b, packet: 64..<164) }
        #expect(range == 48..<(164 + 2 + 2 + 16))
        #expect(buffer[0..<48].allSatisfy { $0 == 0xEE })
        #expect(buffer[range.upperBound...].allSatisfy { $0 == 0xEE })
        // Decapsulating at that range of the same buffer returns the inner packet at 64 again.
        let result = try buffer.withMutableBytes { (b) throws(ESPError) in try inbound.decapsulate(b, packet: range) }
        #expect(result == .packet(64..<164, .ipv4))
        #expect(Array(buffer[64..<164]) == inner)
    }

    @Test("exact head- and tailroom suffice; one byte less is refused without spending a sequence number")
    func headAndTailroom() throws {
        let (out, _) = try makePair()
        for size in [28, 29, 30, 31] {
            let inner = ipv4Packet(total: size)
            let needTail = out.encapsulatedLength(innerLength: size) - out.headerLength - size
            #expect(errorCode { try seal(out, inner, headroom: 15, tailroom: needTail) } == .insufficientHeadroom)
            #expect(errorCode { try seal(out, inner, headroom: 16, tailroom: needTail - 1) } == .insufficientTailroom)
            let before = out.sequenceNumber
            _ = try seal(out, inner, headroom: 16, tailroom: needTail)
            #expect(out.sequenceNumber == before + 1)
        }
        #expect(out.statistics.sendErrors == 8 && out.statistics.packetsOut == 4)
        #expect(out.maximumTrailerLength == 21 && out.headerLength == 16)
    }

    @Test("only IPv4 and IPv6 packets are sent in tunnel mode", arguments: [[], [0x45], [0x00, 1, 2, 3], [0x60] + [UInt8](repeating: 0, count: 20), [0x50] + [UInt8](repeating: 0, count: 40)])
    func unsupportedInner(inner: [UInt8]) throws {
        let (out, _) = try makePair()
        #expect(errorCode { try seal(out, inner) } == .unsupportedInnerPacket)
        #expect(out.sequenceNumber == 0)
    }

    @Test("a range outside the buffer is refused on both sides")
    func invalidRanges() throws {
        let (out, inbound) = try makePair()
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(errorCode { try buffer.withUnsafeMutableBytes { try out.encapsulate($0, packet: 16..<65) } } == .invalidRange)
        #expect(errorCode { try buffer.withUnsafeMutableBytes { try inbound.decapsulate($0, packet: 0..<65) } } == .invalidRange)
        #expect(inbound.statistics.dropsMalformed == 1)
    }

    @Test("without ESN the last sequence number is 2^32 - 1; then the SA refuses to send (RFC 4303 §3.3.3)")
    func exhaustionWithoutESN() throws {
        let (out, _) = try makePair()
        out.skipSequenceNumbers(to: UInt64(UInt32.max) - ESPOutboundSA.sequenceSoftMargin - 1)
        #expect(out.lifetimeState == .live)
        out.skipSequenceNumbers(to: UInt64(UInt32.max) - 2)
        #expect(out.lifetimeState == .soft)
        _ = try seal(out, ipv4Packet(total: 40))
        let last = try seal(out, ipv4Packet(total: 40))
        #expect(Array(last[4..<8]) == [0xff, 0xff, 0xff, 0xff])
        #expect(out.lifetimeState == .hard)
        #expect(errorCode { try seal(out, ipv4Packet(total: 40)) } == .sequenceExhausted)
        #expect(errorCode { try seal(out, ipv4Packet(total: 40)) } == .sequenceExhausted)
        #expect(out.sequenceNumber == UInt64(UInt32.max))
        #expect(out.statistics.sendErrors == 2)
    }

    @Test("with ESN the counter runs to 2^64 - 1")
    func exhaustionWithESN() throws {
        let (out, _) = try makePair(esn: true)
        out.skipSequenceNumbers(to: UInt64(UInt32.max) + 10)
        #expect(out.lifetimeState == .live)
        out.skipSequenceNumbers(to: .max - 1)
        _ = try seal(out, ipv4Packet(total: 40))
        #expect(out.lifetimeState == .hard)
        #expect(errorCode { try seal(out, ipv4Packet(total: 40)) } == .sequenceExhausted)
    }

    // RFC 4303 Appendix A, RFC 4106 §5: the high half is authenticated, not sent.
    @Test("ESN traffic crosses 2^32 on both sides, for every AEAD", arguments: allAEADs)
    func esnAcrossBoundary(algorithm: EncryptionAlgorithm) throws {
        let (out, inbound) = try makePair(algorithm, esn: true, window: 64)
        out.skipSequenceNumbers(to: 1 << 31)
        _ = try open(inbound, seal(out, ipv4Packet(total: 50)))        // receiver's T = 2^31 + 1
        out.skipSequenceNumbers(to: (1 << 32) - 4)
        var held: [[UInt8]] = []
        for n in 0..<8 {
            let esp = try seal(out, ipv4Packet(total: 50 + n))
            #expect(Array(esp[4..<8]) == withUnsafeBytes(of: UInt32(truncatingIfNeeded: (1 << 32) - 3 + n).bigEndian, Array.init))
            held.append(esp)
        }
        // Deliver out of order around the boundary: 2^32 + 1, then 2^32 - 2, then the rest.
        for index in [4, 1, 0, 2, 3, 5, 6, 7] {
            #expect(try open(inbound, held[index]) == ipv4Packet(total: 50 + index), "index \(index)")
        }
        #expect(inbound.replayWindow.highest == (1 << 32) + 4)
        for esp in held { #expect(errorCode { try open(inbound, esp) } == .replayed) }
        #expect(inbound.statistics.packetsIn == 9 && inbound.statistics.dropsReplay == 8)
    }

    @Test("ESN on one side only: the AADs differ, so the ICV fails (RFC 4106 §5)")
    func esnMismatch() throws {
        let provider = OpenSSLCryptoProvider()
        let algorithm = EncryptionAlgorithm.aesGCM16(keyBits: 256)
        let out = try ESPOutboundSA(spi: ESPSPI(0x1000), cipher: provider.makeAEAD(algorithm, key: testKey(algorithm, seed: 1)), extendedSequenceNumbers: true)
        let inbound = try ESPInboundSA(spi: ESPSPI(0x1000), cipher: provider.makeAEAD(algorithm, key: testKey(algorithm, seed: 1)), extendedSequenceNumbers: false)
        #expect(errorCode { try open(inbound, seal(out, ipv4Packet(total: 40))) } == .authenticationFailed)
        #expect(inbound.statistics.dropsBadICV == 1)
    }

    @Test("craft() and the real encoder agree, so the negative tests' packets are real ESP")
    func crafterMatchesEncoder() throws {
        for esn in [false, true] {
            let (out, _) = try makePair(esn: esn)
            let inner = ipv4Packet(total: 77)
            let esp = try seal(out, inner)
            #expect(esp == (try craft(sequence: 1, esn: esn, plaintext: espPlaintext(inner, nextHeader: 4))))
        }
    }

    @Test("TFC padding after the inner packet is cut off at the IP length (RFC 4303 §2.7)")
    func tfcPadding() throws {
        let (_, inbound) = try makePair()
        let v4 = ipv4Packet(total: 60), v6 = ipv6Packet(total: 70)
        #expect(try open(inbound, craft(sequence: 1, plaintext: espPlaintext(v4, nextHeader: 4, tfc: 300))) == v4)
        #expect(try open(inbound, craft(sequence: 2, plaintext: espPlaintext(v6, nextHeader: 41, tfc: 1))) == v6)
        #expect(inbound.statistics.bytesIn == 130)
    }

    @Test("dummy packets (Next Header 59) are counted and dropped silently; their number is spent")
    func dummyPackets() throws {
        let (_, inbound) = try makePair()
        let dummy = try craft(sequence: 5, plaintext: espPlaintext([0xde, 0xad, 0xbe, 0xef, 0, 0], nextHeader: 59))
        #expect(try open(inbound, dummy) == nil)
        #expect(inbound.statistics.dummyPacketsIn == 1 && inbound.statistics.packetsIn == 0 && inbound.statistics.dropsTotal == 0)
        #expect(errorCode { try open(inbound, dummy) } == .replayed)
        let empty = try craft(sequence: 6, plaintext: [0, 59])
        #expect(try open(inbound, empty) == nil)
        #expect(inbound.statistics.dummyPacketsIn == 2)
    }

    // RFC 4301 §4.4.2.1.
    @Test("packet and byte lifetimes: soft asks for a rekey, hard stops the SA in both directions")
    func lifetimes() throws {
        let (out, inbound) = try makePair(outLifetime: ESPLifetime(softBytes: 150, hardBytes: 1_000_000, softPackets: 100, hardPackets: 3),
                                          inLifetime: ESPLifetime(softPackets: 1, hardPackets: 2))
        #expect(out.lifetimeState == .live && inbound.lifetimeState == .live)
        let first = try seal(out, ipv4Packet(total: 100))
        #expect(out.lifetimeState == .live)
        let second = try seal(out, ipv4Packet(total: 100))
        #expect(out.lifetimeState == .soft)                           // 200 bytes >= 150
        let third = try seal(out, ipv4Packet(total: 100))
        #expect(out.lifetimeState == .hard)                           // 3 packets
        #expect(errorCode { try seal(out, ipv4Packet(total: 100)) } == .lifetimeExpired)
        #expect(out.sequenceNumber == 3)

        _ = try open(inbound, first)
        #expect(inbound.lifetimeState == .soft)
        _ = try open(inbound, second)
        #expect(inbound.lifetimeState == .hard)
        #expect(errorCode { try open(inbound, third) } == .lifetimeExpired)
        #expect(inbound.statistics.dropsLifetimeExpired == 1 && inbound.statistics.packetsIn == 2)

        #expect(ESPLifetime.unlimited.state(bytes: .max, packets: .max) == .live)
        #expect(ESPLifetime(hardBytes: 10).state(bytes: 9, packets: 0) == .live)
        #expect(ESPLifetime(hardBytes: 10).state(bytes: 10, packets: 0) == .hard)
    }

    @Test("SAs refuse reserved SPIs, non-AEAD ciphers' absence of keys, and bad windows")
    func configuration() throws {
        let provider = OpenSSLCryptoProvider()
        let algorithm = EncryptionAlgorithm.aesGCM16(keyBits: 128)
        let cipher = try provider.makeAEAD(algorithm, key: testKey(algorithm, seed: 1))
        #expect(errorCode { try ESPOutboundSA(spi: ESPSPI(255), cipher: cipher, extendedSequenceNumbers: false) } == .invalidConfiguration)
        #expect(errorCode { try ESPInboundSA(spi: ESPSPI(0), cipher: cipher, extendedSequenceNumbers: false) } == .invalidConfiguration)
        #expect(errorCode { try ESPInboundSA(spi: ESPSPI(256), cipher: cipher, extendedSequenceNumbers: false, replayWindowSize: 16) } == .invalidConfiguration)
        #expect(ESPSPI(0xd21e_a791).description == "0xd21ea791" && ESPSPI(0x100).description == "0x00000100")
    }
}
