// RFC 3948 §2.1–2.3: what arrives on UDP/4500.
import ESP
import NetTypes
import TestSupport
import Testing

@Suite("ESP-in-UDP demultiplexing (RFC 3948)")
struct ESPInUDPTests {
    @Test("a single 0xFF is a NAT-keepalive; any other single byte is not")
    func keepalive() {
        #expect(ESPInUDPPayload.classify([0xFF]) == .natKeepalive)
        for byte: UInt8 in [0x00, 0x01, 0xFE] {
            guard case .invalid = ESPInUDPPayload.classify([byte]) else {
                Issue.record("\(byte) classified as \(ESPInUDPPayload.classify([byte]))")
                continue
            }
        }
    }

    @Test("the non-ESP marker introduces IKE at offset 4, if a whole IKE header follows")
    func ike() {
        #expect(ESPInUDPPayload.classify([0, 0, 0, 0] + [UInt8](repeating: 0x34, count: 28)) == .ike(offset: 4))
        #expect(ESPInUDPPayload.classify([0, 0, 0, 0] + [UInt8](repeating: 0x34, count: 800)) == .ike(offset: 4))
        if case .invalid = ESPInUDPPayload.classify([0, 0, 0, 0] + [UInt8](repeating: 0x34, count: 27)) {} else {
            Issue.record("a marker with a 27-byte header was accepted")
        }
    }

    @Test("a non-zero first word is an SPI, if the sequence number follows")
    func esp() {
        #expect(ESPInUDPPayload.classify([0, 0, 1, 0, 0, 0, 0, 1]) == .esp(ESPSPI(256)))
        #expect(ESPInUDPPayload.classify([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]) == .esp(ESPSPI(.max)))
        for length in 2..<8 {
            if case .invalid = ESPInUDPPayload.classify([UInt8](repeating: 0xFF, count: length)) {} else {
                Issue.record("\(length) bytes accepted")
            }
        }
        if case .invalid = ESPInUDPPayload.classify([]) {} else { Issue.record("empty payload accepted") }
    }

    @Test("every prefix of every byte pattern up to 40 bytes classifies without trapping, consistently")
    func exhaustivePrefixes() {
        var rng = SplitMix64(seed: 4500)
        for _ in 0..<2_000 {
            let length = Int(rng.next() % 41)
            let bytes = (0..<length).map { _ in rng.next() % 3 == 0 ? 0 : UInt8(truncatingIfNeeded: rng.next()) }
            switch ESPInUDPPayload.classify(bytes) {
            case .natKeepalive: #expect(bytes == [0xFF])
            case .ike(let offset): #expect(offset == 4 && bytes.count >= 32 && bytes.prefix(4).allSatisfy { $0 == 0 })
            case .esp(let spi): #expect(spi.rawValue != 0 && bytes.count >= 8)
            case .invalid: #expect(bytes != [0xFF])
            }
        }
    }
}
