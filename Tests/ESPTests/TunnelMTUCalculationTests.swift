import CryptoCore
import ESP
import NetTypes
import Testing

// RFC 4303 §2, §2.4; RFC 3948 §2.1; RFC 4106 §3; RFC 7634 §2; RFC 3602 §3; RFC 4868 §2.3.
@Suite("Tunnel MTU from the path MTU and the ESP transform")
struct TunnelMTUCalculationTests {
    static let suites: [(EncryptionAlgorithm, IntegrityAlgorithm?)] = [
        (.aesGCM16(keyBits: 128), nil), (.aesGCM16(keyBits: 256), nil), (.chacha20Poly1305, nil),
        (.aesCBC(keyBits: 128), .hmacSHA256_128), (.aesCBC(keyBits: 256), .hmacSHA384_192),
        (.aesCBC(keyBits: 256), .hmacSHA512_256),
    ]

    /// Worked by hand from the RFCs: AES-GCM over IPv4 with UDP: 1500 − 20 − 8 − 8 (SPI, seq) − 8 (IV)
    /// − 16 (tag) = 1440 for the 4-aligned encrypted part, minus 2 (pad length, next header).
    @Test("worked examples")
    func workedExamples() {
        let gcm4udp = TunnelMTUCalculation(encryption: .aesGCM16(keyBits: 256), integrity: nil, outerFamily: .ipv4, udpEncapsulated: true)
        #expect(gcm4udp.tunnelMTU(pathMTU: 1500) == 1438)
        #expect(gcm4udp.tunnelMTU(pathMTU: 1400) == 1338)
        let gcm6 = TunnelMTUCalculation(encryption: .aesGCM16(keyBits: 128), integrity: nil, outerFamily: .ipv6, udpEncapsulated: false)
        // 1500 − 40 − 8 − 8 − 16 = 1428.
        #expect(gcm6.tunnelMTU(pathMTU: 1500) == 1426)
        // CBC: 1500 − 20 − 8 − 8 (SPI, seq, UDP) − 16 (IV) − 12 (SHA1-96) = 1436, down to 16 octets: 1424.
        let cbc = TunnelMTUCalculation(encryption: .aesCBC(keyBits: 128), integrity: .hmacSHA1_96, outerFamily: .ipv4, udpEncapsulated: true)
        #expect(cbc.tunnelMTU(pathMTU: 1500) == 1422)
        #expect(TunnelMTUCalculation.mss(mtu: 1438, innerFamily: .ipv4) == 1398)
        #expect(TunnelMTUCalculation.mss(mtu: 1438, innerFamily: .ipv6) == 1378)
    }

    @Test("a path too small for any packet gives nil")
    func tooSmall() {
        let c = TunnelMTUCalculation(encryption: .aesCBC(keyBits: 256), integrity: .hmacSHA512_256, outerFamily: .ipv6, udpEncapsulated: true)
        #expect(c.tunnelMTU(pathMTU: 100) == nil)
        #expect(c.tunnelMTU(pathMTU: 0) == nil)
        #expect(c.tunnelMTU(pathMTU: -5) == nil)
    }

    /// The computed MTU is the largest inner packet whose real ESP packet (from `ESPOutboundSA`)
    /// fits the path: one octet more does not.
    @Test("agrees with what ESPOutboundSA really builds, for every path MTU from 576 to 9000")
    func agreesWithEncapsulation() throws {
        for (enc, integ) in Self.suites {
            let out = try integ.map { try makeCBCPair((enc, $0)).out } ?? makePair(enc).out
            for family in [IPAddress.Family.ipv4, .ipv6] {
                for udp in [false, true] {
                    let c = TunnelMTUCalculation(encryption: enc, integrity: integ, outerFamily: family, udpEncapsulated: udp)
                    let wrap = (family == .ipv4 ? 20 : 40) + (udp ? 8 : 0)
                    for path in 576...9000 {
                        let mtu = try #require(c.tunnelMTU(pathMTU: path))
                        #expect(out.encapsulatedLength(innerLength: mtu) + wrap <= path, "\(enc) \(family) udp \(udp) path \(path)")
                        #expect(out.encapsulatedLength(innerLength: mtu + 1) + wrap > path, "\(enc) \(family) udp \(udp) path \(path)")
                        #expect(c.outerLength(innerLength: mtu) == out.encapsulatedLength(innerLength: mtu) + wrap)
                    }
                }
            }
        }
    }

    /// And the packet really encrypted at that size is that long.
    @Test("a real packet of the computed MTU encrypts to at most the path MTU")
    func realPacket() throws {
        let (out, _) = try makePair(.aesGCM16(keyBits: 256))
        let c = TunnelMTUCalculation(encryption: .aesGCM16(keyBits: 256), integrity: nil, outerFamily: .ipv4, udpEncapsulated: true)
        let mtu = try #require(c.tunnelMTU(pathMTU: 1400))
        var buffer = [UInt8](repeating: 0, count: out.headerLength + mtu + out.maximumTrailerLength)
        let packet = ipv4Packet(total: mtu)
        buffer.replaceSubrange(out.headerLength..<(out.headerLength + mtu), with: packet)
        let range = try buffer.withUnsafeMutableBytes { (b) throws(ESPError) in
            try out.encapsulate(b, packet: out.headerLength..<(out.headerLength + mtu))
        }
        #expect(range.count + 20 + 8 <= 1400)
    }
}
