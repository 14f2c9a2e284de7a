import ViaductCrypto
import CryptoCore
import ESP
import NetTypes
import TestSupport

/// The AEADs ESP is tested with.
let allAEADs: [EncryptionAlgorithm] = [.aesGCM16(keyBits: 128), .aesGCM16(keyBits: 256), .chacha20Poly1305]

/// Key material from a seed (never a real key).
func testKey(_ algorithm: EncryptionAlgorithm, seed: UInt64) -> SecureBytes {
    var rng = SplitMix64(seed: seed)
    return SecureBytes((0..<algorithm.keyMaterialLength).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

/// A matched outbound/inbound pair on one key, as the two ends of one SA direction.
func makePair(_ algorithm: EncryptionAlgorithm = .aesGCM16(keyBits: 256), spi: UInt32 = 0x1234_5678,
              esn: Bool = false, window: Int = ReplayWindow.defaultSize,
              outLifetime: ESPLifetime = .unlimited, inLifetime: ESPLifetime = .unlimited,
              ivMask: UInt64 = 0, seed: UInt64 = 1) throws -> (out: ESPOutboundSA, in: ESPInboundSA) {
    let provider = OpenSSLCryptoProvider()
    let key = testKey(algorithm, seed: seed)
    let out = try ESPOutboundSA(spi: ESPSPI(spi), cipher: provider.makeAEAD(algorithm, key: key),
                                extendedSequenceNumbers: esn, lifetime: outLifetime, ivMask: ivMask)
    let inbound = try ESPInboundSA(spi: ESPSPI(spi), cipher: provider.makeAEAD(algorithm, key: key),
                                   extendedSequenceNumbers: esn, replayWindowSize: window, lifetime: inLifetime)
    return (out, inbound)
}

/// An IPv4 packet of `total` bytes (≥ 20) with a valid header checksum: ICMP echo with a counting payload.
func ipv4Packet(total: Int, id: UInt16 = 1) -> [UInt8] {
    var p = [UInt8](repeating: 0, count: total)
    p[0] = 0x45
    p[2] = UInt8(total >> 8); p[3] = UInt8(total & 0xff)
    p[4] = UInt8(id >> 8); p[5] = UInt8(id & 0xff)
    p[8] = 64; p[9] = 1
    p[12...15] = [198, 18, 1, 10]
    p[16...19] = [198, 18, 2, 10]
    let sum = internetChecksum(p[0..<20])
    p[10] = UInt8(sum >> 8); p[11] = UInt8(sum & 0xff)
    if total > 20 { p[20] = 8 }
    for i in min(28, total)..<total { p[i] = UInt8(truncatingIfNeeded: i) }
    return p
}

/// An IPv6 packet of `total` bytes (≥ 40), No Next Header, 2001:db8::1 -> 2001:db8::2.
func ipv6Packet(total: Int) -> [UInt8] {
    var p = [UInt8](repeating: 0, count: total)
    p[0] = 0x60
    let payload = total - 40
    p[4] = UInt8(payload >> 8); p[5] = UInt8(payload & 0xff)
    p[6] = 59; p[7] = 64
    p[8...11] = [0x20, 0x01, 0x0d, 0xb8]; p[23] = 1
    p[24...27] = [0x20, 0x01, 0x0d, 0xb8]; p[39] = 2
    for i in 40..<total { p[i] = UInt8(truncatingIfNeeded: i) }
    return p
}

/// RFC 1071 one's-complement sum (0 over a header that carries a correct checksum).
func internetChecksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
    var sum: UInt32 = 0
    var i = bytes.startIndex
    while i + 1 < bytes.endIndex {
        sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
        i += 2
    }
    if i < bytes.endIndex { sum += UInt32(bytes[i]) << 8 }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
}

/// Runs `encapsulate` on `inner` placed after `headroom` bytes with `tailroom` after it; returns the ESP packet.
func seal(_ sa: ESPOutboundSA, _ inner: [UInt8], headroom: Int = 16, tailroom: Int = 21) throws(ESPError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: headroom + inner.count + tailroom)
    buffer.replaceSubrange(headroom..<(headroom + inner.count), with: inner)
    let range = try buffer.withMutableBytes { (b) throws(ESPError) in
        try sa.encapsulate(b, packet: headroom..<(headroom + inner.count))
    }
    return Array(buffer[range])
}

/// Runs `decapsulate` on a copy of `packet`; returns the inner packet, or nil for a dummy.
func open(_ sa: ESPInboundSA, _ packet: [UInt8]) throws(ESPError) -> [UInt8]? {
    var buffer = packet
    let result = try buffer.withMutableBytes { (b) throws(ESPError) in
        try sa.decapsulate(b, packet: 0..<b.count)
    }
    switch result {
    case .packet(let range, _): return Array(buffer[range])
    case .dummy: return nil
    }
}

/// The ESPError code a throwing expression produced, or nil if it did not throw.
func errorCode<T>(_ body: () throws -> T) -> ESPError.Code? {
    do {
        _ = try body()
        return nil
    } catch let error as ESPError {
        return error.code
    } catch {
        return ESPError.Code(rawValue: "not-an-ESPError: \(error)")
    }
}

/// An independent ESP encoder for tests: header, IV = the sequence number, then any plaintext
/// (inner packet, padding, trailer: right or deliberately wrong) sealed with the raw AEAD and the
/// RFC 4106 §5 AAD. Lets the tests build authentic packets the real encoder would never produce.
func craft(_ algorithm: EncryptionAlgorithm = .aesGCM16(keyBits: 256), seed: UInt64 = 1, spi: UInt32 = 0x1234_5678,
           sequence: UInt64, esn: Bool = false, plaintext: [UInt8]) throws -> [UInt8] {
    let cipher = try OpenSSLCryptoProvider().makeAEAD(algorithm, key: testKey(algorithm, seed: seed))
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    let low = UInt32(truncatingIfNeeded: sequence), high = UInt32(truncatingIfNeeded: sequence >> 32)
    let header = be32(spi) + be32(low)
    let iv = be32(high) + be32(low)
    let aad = esn ? be32(spi) + be32(high) + be32(low) : header
    var body = plaintext + [UInt8](repeating: 0, count: cipher.tagLength)
    try iv.withBytes { (ivp) throws(CryptoError) in
        try aad.withBytes { (a) throws(CryptoError) in
            _ = try body.withMutableBytes { (b) throws(CryptoError) in
                try cipher.seal(iv: ivp, aad: a, buffer: b, plaintextCount: plaintext.count)
            }
        }
    }
    return header + iv + body
}

/// A well-formed plaintext: the inner packet, RFC 4303 §2.4 padding, Pad Length, Next Header.
func espPlaintext(_ inner: [UInt8], nextHeader: UInt8, tfc: Int = 0) -> [UInt8] {
    let body = inner + [UInt8](repeating: 0xAB, count: tfc)
    let pad = (4 - (body.count + 2) % 4) % 4
    return body + (0..<pad).map { UInt8($0 + 1) } + [UInt8(pad), nextHeader]
}
