// RFC 4303 §3.4: every inbound refusal is a counted drop with its reason, never a trap.
import ViaductCrypto
import CryptoCore
import ESP
import NetTypes
import Testing

@Suite("Malformed and hostile inbound packets")
struct MalformedTests {
    /// A fresh inbound SA (key seed 1, SPI 0x12345678) and the drop counter its error maps to.
    static func inbound(esn: Bool = false) throws -> ESPInboundSA { try makePair(esn: esn).in }

    @Test("a real packet truncated at every length is dropped: short ones as malformed, the rest as bad ICV")
    func truncatedEverywhere() throws {
        let (east, _) = try RealPacketTests.inboundSAs()
        let packet = CaptureFixtures.frames[0].esp
        for length in 0..<packet.count {
            let code = errorCode { try open(east, Array(packet[0..<length])) }
            #expect(code == (length < east.minimumPacketLength ? .truncated : .authenticationFailed), "length \(length)")
        }
        #expect(east.statistics.dropsMalformed == UInt64(east.minimumPacketLength))
        #expect(east.statistics.dropsBadICV == UInt64(packet.count - east.minimumPacketLength))
        #expect(east.statistics.packetsIn == 0 && east.replayWindow.highest == 0)
        // None of them moved the window: the untouched packet is still accepted.
        #expect(try open(east, packet) != nil)
    }

    @Test("a bit flipped anywhere is caught: SPI -> unknown SPI, sequence 0 -> replay, else bad ICV")
    func bitFlips() throws {
        let (east, _) = try RealPacketTests.inboundSAs()
        let packet = CaptureFixtures.frames[2].esp          // seq 2
        var expected: [ESPDropReason: UInt64] = [:]
        for byte in 0..<packet.count {
            for bit in 0..<8 {
                var mutated = packet
                mutated[byte] ^= 1 << bit
                let reason: ESPDropReason
                if byte < 4 { reason = .unknownSPI }
                else if byte < 8 && mutated[4..<8].allSatisfy({ $0 == 0 }) { reason = .replay }
                else { reason = .badICV }
                expected[reason, default: 0] += 1
                let code = errorCode { try open(east, mutated) }
                #expect(code.map { ESPError($0, "").dropReason } == reason, "byte \(byte) bit \(bit)")
            }
        }
        for reason in ESPDropReason.allCases {
            #expect(east.statistics[reason] == expected[reason, default: 0], "\(reason)")
        }
        #expect(east.replayWindow.highest == 0)
        #expect(try open(east, packet) != nil)
    }

    @Test("a forged packet does not move the window: the genuine one with the same number still passes")
    func forgeryDoesNotSlideWindow() throws {
        let sa = try Self.inbound()
        let forged = try craft(seed: 99, sequence: 1_000_000, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4))
        #expect(errorCode { try open(sa, forged) } == .authenticationFailed)
        #expect(sa.replayWindow.highest == 0)
        _ = try open(sa, craft(sequence: 5, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4)))
        #expect(try open(sa, craft(sequence: 1_000_000, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4))) != nil)
        #expect(sa.statistics.dropsBadICV == 1 && sa.statistics.packetsIn == 2)
    }

    @Test("wrong SPI: counted by the SA it was handed to")
    func wrongSPI() throws {
        let sa = try Self.inbound()
        let packet = try craft(spi: 0x1234_5679, sequence: 1, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4))
        #expect(errorCode { try open(sa, packet) } == .unknownSPI)
        #expect(sa.statistics.dropsUnknownSPI == 1)
    }

    @Test("replayed and too-old packets are dropped as replay, before any decryption")
    func replayAndTooOld() throws {
        let sa = try makePair(window: 32).in
        let packets = try (1...40).map { try craft(sequence: UInt64($0), plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4)) }
        _ = try open(sa, packets[39])                         // 40
        #expect(errorCode { try open(sa, packets[39]) } == .replayed)
        #expect(errorCode { try open(sa, packets[7]) } == .tooOld)    // 8 = 40 - 32
        #expect(try open(sa, packets[8]) != nil)                       // 9 = 40 - 31: the edge
        let zero = try craft(sequence: 0, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4))
        #expect(errorCode { try open(sa, zero) } == .invalidSequence)
        #expect(sa.statistics.dropsReplay == 3 && sa.statistics.dropsBadICV == 0)
    }

    @Test("padding bytes that are not 1, 2, 3, ... are refused", arguments: [1, 2, 3, 4, 17, 255])
    func badPaddingBytes(padLength: Int) throws {
        let sa = try Self.inbound()
        let inner = ipv4Packet(total: 40)
        var sequence: UInt64 = 0
        for wrongAt in 0..<min(padLength, 4) {
            var padding = (0..<padLength).map { UInt8(truncatingIfNeeded: $0 + 1) }
            padding[wrongAt] ^= 0x80
            sequence += 1
            let packet = try craft(sequence: sequence, plaintext: inner + padding + [UInt8(padLength), 4])
            #expect(errorCode { try open(sa, packet) } == .badPadding)
        }
        // The same with correct padding is fine, however long (up to 255 bytes are allowed).
        sequence += 1
        let good = try craft(sequence: sequence, plaintext: inner + (0..<padLength).map { UInt8(truncatingIfNeeded: $0 + 1) } + [UInt8(padLength), 4])
        #expect(try open(sa, good) == inner)
        #expect(sa.statistics.dropsPadding == UInt64(min(padLength, 4)))
    }

    @Test("Pad Length beyond the payload is refused; the authentic packet's number is still spent")
    func badPadLength() throws {
        let sa = try Self.inbound()
        for (n, plaintext) in [[UInt8]([1, 4]), [0, 2, 4], [1, 2, 3, 4, 5], [UInt8](repeating: 1, count: 30) + [255, 4]].enumerated() {
            let packet = try craft(sequence: UInt64(n + 1), plaintext: plaintext)
            #expect(errorCode { try open(sa, packet) } == .badPadLength, "\(plaintext)")
            #expect(errorCode { try open(sa, packet) } == .replayed)
        }
        #expect(sa.statistics.dropsPadding == 4 && sa.statistics.dropsReplay == 4)
    }

    @Test("Next Header other than 4, 41, 59 is refused", arguments: [0, 1, 6, 17, 50, 58, 60, 97, 255] as [UInt8])
    func unknownNextHeader(nextHeader: UInt8) throws {
        let sa = try Self.inbound()
        let packet = try craft(sequence: 1, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: nextHeader))
        #expect(errorCode { try open(sa, packet) } == .unknownNextHeader)
        #expect(sa.statistics.dropsUnknownNextHeader == 1)
    }

    @Test("inner packets that do not fit the payload or the Next Header are malformed")
    func badInnerPackets() throws {
        let sa = try Self.inbound()
        var v4TooLong = ipv4Packet(total: 60)
        v4TooLong[2] = 0; v4TooLong[3] = 61                  // claims one byte more than carried
        var v6TooLong = ipv6Packet(total: 60)
        v6TooLong[5] = 21
        var v4ShortIHL = ipv4Packet(total: 60)
        v4ShortIHL[0] = 0x44
        var v4TotalBelowHeader = ipv4Packet(total: 60)
        v4TotalBelowHeader[3] = 19
        var v4LongIHL = ipv4Packet(total: 60)
        v4LongIHL[0] = 0x4f                                   // 60-byte header, total 60: fine
        var v4IHLPastTotal = ipv4Packet(total: 40)
        v4IHLPastTotal[0] = 0x4f                              // 60-byte header, total 40: bad
        let cases: [(String, [UInt8], UInt8, ESPError.Code?)] = [
            ("IPv4 total length past payload", v4TooLong, 4, .innerLengthExceedsPayload),
            ("IPv6 payload length past payload", v6TooLong, 41, .innerLengthExceedsPayload),
            ("IPv4 IHL 4", v4ShortIHL, 4, .badInnerHeader),
            ("IPv4 total < 20", v4TotalBelowHeader, 4, .badInnerHeader),
            ("IPv4 IHL 15 with room", v4LongIHL, 4, nil),
            ("IPv4 IHL past total", v4IHLPastTotal, 4, .badInnerHeader),
            ("IPv6 packet as Next Header 4", ipv6Packet(total: 60), 4, .badInnerHeader),
            ("IPv4 packet as Next Header 41", ipv4Packet(total: 60), 41, .badInnerHeader),
            ("19 bytes as IPv4", Array(ipv4Packet(total: 40).prefix(19)), 4, .badInnerHeader),
            ("39 bytes as IPv6", Array(ipv6Packet(total: 40).prefix(39)), 41, .badInnerHeader),
            ("nothing as IPv4", [], 4, .badInnerHeader),
        ]
        var failures: UInt64 = 0
        for (n, (name, inner, nextHeader, expected)) in cases.enumerated() {
            let packet = try craft(sequence: UInt64(n + 1), plaintext: espPlaintext(inner, nextHeader: nextHeader))
            #expect(errorCode { try open(sa, packet) } == expected, "\(name)")
            if expected != nil { failures += 1 }
        }
        #expect(sa.statistics.dropsMalformed == failures)
        #expect(sa.statistics.packetsIn == 1)
    }

    @Test("the table counts what no SA can: too short for an SPI, or an SPI nobody has")
    func tableDrops() throws {
        let table = ESPInboundSATable()
        table.insert(try Self.inbound())
        for length in 0..<8 {
            var buffer = [UInt8](repeating: 0x12, count: length)
            #expect(errorCode { try buffer.withUnsafeMutableBytes { try table.decapsulate($0, packet: 0..<$0.count) } } == .truncated)
        }
        var stray = try craft(spi: 0xdead_beef, sequence: 1, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4))
        #expect(errorCode { try stray.withUnsafeMutableBytes { try table.decapsulate($0, packet: 0..<$0.count) } } == .unknownSPI)
        #expect(table.statistics.dropsMalformed == 8 && table.statistics.dropsUnknownSPI == 1)
        var mine = try craft(sequence: 1, plaintext: espPlaintext(ipv4Packet(total: 40), nextHeader: 4))
        let result = try mine.withUnsafeMutableBytes { try table.decapsulate($0, packet: 0..<$0.count) }
        #expect(result == .packet(16..<56, .ipv4))
        #expect(table[ESPSPI(0x1234_5678)]?.statistics.packetsIn == 1)
    }
}
