// Known answers from a real strongSwan exchange (CaptureFixtures): RFC 7296 §2.17 key derivation,
// RFC 4303 / RFC 4106 decapsulation and byte-exact encapsulation, RFC 3948 demultiplexing.
import ViaductCrypto
import CryptoCore
import ESP
import NetTypes
import Testing

@Suite("Real strongSwan ESP packets")
struct RealPacketTests {
    /// KEYMAT split per §2.17 by CryptoCore's key schedule.
    static func childKeys() throws -> ChildSAKeys {
        try IKEKeySchedule.deriveChildSAKeys(
            prf: OpenSSLCryptoProvider().makePRF(.hmacSHA256), skD: SecureBytes(CaptureFixtures.skD),
            sharedSecret: nil, nonceI: CaptureFixtures.nonceI, nonceR: CaptureFixtures.nonceR,
            encryption: .aesGCM16(keyBits: 256), integrity: nil)
    }

    /// West's (initiator's) and east's inbound SAs, as each gateway would hold them.
    static func inboundSAs() throws -> (east: ESPInboundSA, west: ESPInboundSA) {
        let keys = try childKeys()
        let provider = OpenSSLCryptoProvider()
        let east = try ESPInboundSA(spi: CaptureFixtures.spiInitiatorToResponder,
                                    cipher: provider.makeAEAD(.aesGCM16(keyBits: 256), key: keys.initiatorToResponder.encryption),
                                    extendedSequenceNumbers: false)
        let west = try ESPInboundSA(spi: CaptureFixtures.spiResponderToInitiator,
                                    cipher: provider.makeAEAD(.aesGCM16(keyBits: 256), key: keys.responderToInitiator.encryption),
                                    extendedSequenceNumbers: false)
        return (east, west)
    }

    @Test("CryptoCore's prf+ split gives the KEYMAT the independent Python derivation gives")
    func keymat() throws {
        let keys = try Self.childKeys()
        let derived = keys.initiatorToResponder.encryption.withUnsafeBytes { Array($0) }
            + keys.responderToInitiator.encryption.withUnsafeBytes { Array($0) }
        #expect(derived.count == 72)
        #expect(derived == CaptureFixtures.keymat)
        #expect(keys.initiatorToResponder.integrity == nil)
    }

    @Test("every captured ping packet decrypts to the ICMP echo the capture shows")
    func decapsulateCapture() throws {
        let (east, west) = try Self.inboundSAs()
        for frame in CaptureFixtures.frames {
            let sa = frame.fromInitiator ? east : west
            let inner = try #require(try open(sa, frame.esp), "frame \(frame.number)")
            // The independent decryption's plaintext, less the trailer (pad 1 2, Pad Length 2, NH 4).
            #expect(frame.plaintext.suffix(4) == [1, 2, 2, 4])
            #expect(inner == Array(frame.plaintext.dropLast(4)), "frame \(frame.number)")

            // And what it means: a valid IPv4 header, ICMP, the lab's hosts, echo request/reply.
            #expect(inner.count == 84)
            #expect(inner[0] == 0x45 && inner[9] == 1)
            #expect(internetChecksum(inner[0..<20]) == 0)
            #expect(internetChecksum(inner[20...]) == 0)
            let west: [UInt8] = [198, 18, 1, 10], eastHost: [UInt8] = [198, 18, 2, 10]
            let (src, dst) = frame.fromInitiator ? (west, eastHost) : (eastHost, west)
            #expect(Array(inner[12..<16]) == src && Array(inner[16..<20]) == dst)
            #expect(inner[20] == (frame.fromInitiator ? 8 : 0))      // echo request / reply
            let icmpSequence = Int(inner[26]) << 8 | Int(inner[27])
            #expect(icmpSequence == (frame.number <= 6 ? 1 : 2))
            #expect(Array(inner[44..<84]) == Array(0x10...0x37))      // ping's default pattern
        }
        #expect(east.statistics.packetsIn == 2 && west.statistics.packetsIn == 2)
        #expect(east.statistics.bytesIn == 168 && east.statistics.dropsTotal == 0)
        #expect(east.replayWindow.highest == 2 && west.replayWindow.highest == 2)
    }

    @Test("re-encapsulating the decrypted packets reproduces the captured bytes exactly")
    func encapsulateCapture() throws {
        let keys = try Self.childKeys()
        let provider = OpenSSLCryptoProvider()
        let west = try ESPOutboundSA(spi: CaptureFixtures.spiInitiatorToResponder,
                                     cipher: provider.makeAEAD(.aesGCM16(keyBits: 256), key: keys.initiatorToResponder.encryption),
                                     extendedSequenceNumbers: false, ivMask: CaptureFixtures.ivMaskInitiatorToResponder)
        let east = try ESPOutboundSA(spi: CaptureFixtures.spiResponderToInitiator,
                                     cipher: provider.makeAEAD(.aesGCM16(keyBits: 256), key: keys.responderToInitiator.encryption),
                                     extendedSequenceNumbers: false, ivMask: CaptureFixtures.ivMaskResponderToInitiator)
        for frame in CaptureFixtures.frames {
            let sa = frame.fromInitiator ? west : east
            let inner = Array(frame.plaintext.dropLast(4))
            #expect(sa.encapsulatedLength(innerLength: inner.count) == frame.esp.count)
            let esp = try seal(sa, inner, headroom: 40, tailroom: 64)
            #expect(esp == frame.esp, "frame \(frame.number)")
        }
        #expect(west.sequenceNumber == 2 && west.statistics.packetsOut == 2 && west.statistics.bytesOut == 168)
    }

    @Test("a replayed capture packet is dropped and counted; the original is still delivered once")
    func replayCapture() throws {
        let (east, _) = try Self.inboundSAs()
        let first = CaptureFixtures.frames[0].esp, second = CaptureFixtures.frames[2].esp
        _ = try open(east, second)
        _ = try open(east, first)          // late but inside the window: fine
        #expect(errorCode { try open(east, first) } == .replayed)
        #expect(errorCode { try open(east, second) } == .replayed)
        #expect(east.statistics.dropsReplay == 2 && east.statistics.packetsIn == 2)
    }

    @Test("packets of the rekeyed SA (not held) are unknown SPIs to the table; held ones pass")
    func tableDemux() throws {
        let (east, west) = try Self.inboundSAs()
        let table = ESPInboundSATable()
        table.insert(east)
        table.insert(west)
        for packet in CaptureFixtures.rekeyedFrames {
            var buffer = packet
            #expect(errorCode { try buffer.withUnsafeMutableBytes { try table.decapsulate($0, packet: 0..<$0.count) } } == .unknownSPI)
        }
        #expect(table.statistics.dropsUnknownSPI == 2)
        for frame in CaptureFixtures.frames {
            var buffer = frame.esp
            let result = try buffer.withUnsafeMutableBytes { try table.decapsulate($0, packet: 0..<$0.count) }
            guard case .packet(let range, .ipv4) = result else {
                Issue.record("frame \(frame.number): \(result)")
                continue
            }
            #expect(range == 16..<100)
        }
        #expect(east.statistics.packetsIn == 2 && west.statistics.packetsIn == 2)
        table.remove(east.spi)
        var buffer = CaptureFixtures.frames[0].esp
        #expect(errorCode { try buffer.withUnsafeMutableBytes { try table.decapsulate($0, packet: 0..<$0.count) } } == .unknownSPI)
        #expect(table.statistics.dropsUnknownSPI == 3 && table.count == 1)
    }

    @Test("the captured UDP/4500 payloads classify as ESP with their SPI (RFC 3948)")
    func classifyCapture() {
        for frame in CaptureFixtures.frames {
            let expected = frame.fromInitiator ? CaptureFixtures.spiInitiatorToResponder : CaptureFixtures.spiResponderToInitiator
            #expect(ESPInUDPPayload.classify(frame.esp) == .esp(expected))
        }
        #expect(ESPInUDPPayload.classify(CaptureFixtures.rekeyedFrames[0]) == .esp(ESPSPI(0xc5c5_519b)))
    }
}
