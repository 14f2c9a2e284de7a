import CryptoCore
import NetTypes

// RFC 4303 §3.1.2 (tunnel mode), §3.3 (outbound packet processing), §2.4 (padding);
// RFC 4106 §3.1 (IV), §5 (AAD); RFC 7634 §2 (the same for ChaCha20-Poly1305);
// RFC 3602 §2–3 (AES-CBC: random 16-byte IV, 16-byte blocks) with RFC 4868 §2 (HMAC-SHA-2 ICV),
// encrypt-then-MAC as RFC 4303 §3.3.2 orders it, and §2.2.1/§3.3.2.1 (ESN high bits in the ICV).
//
// Buffer layout, in place, the way wireguard-go leaves headroom for its header:
//
//     before:  [ headroom ≥ 16 ............ | inner IP packet (n) | tailroom ≥ 3 + 2 + 16 ........ ]
//     after:     ... | SPI | Seq | IV (8)   | ciphertext of (inner packet | pad | padlen | NH) | ICV (16) | ...
//                      └──── header ─────┘    └─────────────── n + pad + 2 ─────────────────┘
//
// AES-CBC + HMAC: the IV is 16 random bytes (header 24), the padding fills the plaintext to a
// multiple of 16, and the ICV (16, 24 or 32 bytes) is the truncated HMAC over SPI, Seq, IV and
// ciphertext (with ESN followed by the high 32 bits of the sequence number, which do not travel).
//
// The caller (the TUN reader) reads each packet at offset `headerLength` of a buffer of at least
// `headerLength + MTU + maximumTrailerLength` bytes; encapsulation then writes the 16-byte header
// into the headroom, the padding and trailer after the packet, encrypts in place and appends the
// ICV. Nothing is copied or allocated per packet, and the ESP packet is a contiguous range of the
// same buffer, ready for UDP encapsulation (RFC 3948) or to be sent as IP protocol 50.

/// The sending half of one Child SA: sequence numbers, IV, padding and the AEAD seal (or the
/// CBC encryption and its HMAC).
///
/// A class because an SA is one thing with one counter: a copied struct would reuse sequence
/// numbers, and with them GCM nonces. Not `Sendable` (the AEAD context is mutated per packet):
/// one per SA per sending thread, as the cipher requires.
public final class ESPOutboundSA {
    public let spi: ESPSPI
    public let extendedSequenceNumbers: Bool
    public let lifetime: ESPLifetime
    public private(set) var statistics = ESPStatistics()
    /// The last sequence number sent; 0 before the first packet.
    public private(set) var sequenceNumber: UInt64 = 0

    /// SPI, sequence number and IV in front of the inner packet.
    public let headerLength: Int
    /// The most the trailer can add after the inner packet: padding, Pad Length, Next Header, ICV.
    public let maximumTrailerLength: Int

    private let protection: ESPProtection
    private let ivMask: UInt64
    /// CBC only: where the random IVs come from.
    private let ivSource: ESPIVSource?

    /// Sequence numbers left before the soft state asks for a rekey without ESN. 2^24 packets is
    /// about 3 minutes of 64-byte packets at 10 Gbit/s: time enough to negotiate a new SA.
    public static let sequenceSoftMargin: UInt64 = 1 << 24

    /// - Parameters:
    ///   - ivMask: the explicit IV is `sequence number XOR ivMask` (RFC 4106 §3.1 only asks
    ///     that it never repeat under one key, which a per-SA constant keeps). Linux's seqiv and
    ///     strongSwan's libipsec draw a random mask per SA so the IV does not reveal the counter;
    ///     the daemon passes random bytes, known-answer tests pass the mask of a capture.
    public init(spi: ESPSPI, cipher: any AEADCipher, extendedSequenceNumbers: Bool,
                lifetime: ESPLifetime = .unlimited, ivMask: UInt64 = 0) throws(ESPError) {
        guard cipher.algorithm.isAEAD, cipher.ivLength == 8, cipher.tagLength > 0 else {
            throw ESPError(.invalidConfiguration, "ESP needs an AEAD with an 8-byte IV")
        }
        guard spi.rawValue > 255 else {
            throw ESPError(.invalidConfiguration, "SPIs 0-255 are reserved", value: Int(spi.rawValue))
        }
        self.spi = spi
        self.protection = .aead(cipher)
        self.extendedSequenceNumbers = extendedSequenceNumbers
        self.lifetime = lifetime
        self.ivMask = ivMask
        self.ivSource = nil
        self.headerLength = 8 + cipher.ivLength
        self.maximumTrailerLength = 3 + 2 + cipher.tagLength
    }

    /// AES-CBC (RFC 3602) with an HMAC-SHA-2 ICV (RFC 4868), encrypt-then-MAC.
    ///
    /// - Parameter random: a CSPRNG for the per-packet IVs (RFC 3602 §2.4: an IV must not be
    ///   predictable). The daemon passes `OpenSSLRandomSource`; tests may pass a seeded one.
    public init(spi: ESPSPI, cipher: any CBCCipher, integrity: any IntegrityMAC, extendedSequenceNumbers: Bool,
                lifetime: ESPLifetime = .unlimited, random: any RandomSource) throws(ESPError) {
        try ESPProtection.checkCBC(cipher, integrity)
        guard spi.rawValue > 255 else {
            throw ESPError(.invalidConfiguration, "SPIs 0-255 are reserved", value: Int(spi.rawValue))
        }
        self.spi = spi
        self.protection = .cbc(cipher, integrity)
        self.extendedSequenceNumbers = extendedSequenceNumbers
        self.lifetime = lifetime
        self.ivMask = 0
        self.ivSource = ESPIVSource(random: random)
        self.headerLength = 8 + cipher.ivLength
        self.maximumTrailerLength = protection.blockSize - 1 + 2 + integrity.icvLength
    }

    /// Where the SA stands against its lifetimes, and against sequence number exhaustion: without
    /// ESN, `.soft` when fewer than `sequenceSoftMargin` numbers are left and `.hard` when none are.
    public var lifetimeState: ESPLifetimeState {
        let counted = lifetime.state(bytes: statistics.bytesOut, packets: statistics.packetsOut)
        let limit: UInt64 = extendedSequenceNumbers ? .max : UInt64(UInt32.max)
        let left = limit - sequenceNumber
        let sequence: ESPLifetimeState = left == 0 ? .hard : (left < Self.sequenceSoftMargin ? .soft : .live)
        return max(counted, sequence)
    }

    /// Moves the counter forward (never back) so tests reach the 2^32 and 2^64 boundaries without
    /// sending billions of packets. Internal: reachable only from `@testable` tests.
    func skipSequenceNumbers(to last: UInt64) {
        sequenceNumber = max(sequenceNumber, last)
    }

    /// The ESP packet size for an inner packet of `innerLength` bytes: what the MTU must leave room for.
    public func encapsulatedLength(innerLength: Int) -> Int {
        let block = protection.blockSize
        let padded = (innerLength + 2 + block - 1) / block * block
        return headerLength + padded + protection.icvLength
    }

    /// Encrypts the inner packet at `buffer[packet]` in place and returns where the ESP packet now
    /// is. Throws (and sends nothing, and consumes no sequence number unless the cipher failed) when
    /// the buffer lacks head- or tailroom, the packet is not IP, the SA's hard lifetime is reached
    /// or the sequence number would wrap (RFC 4303 §3.3.3: the SA must be rekeyed first).
    public func encapsulate(_ buffer: UnsafeMutableRawBufferPointer, packet: Range<Int>) throws(ESPError) -> Range<Int> {
        do {
            return try seal(buffer, packet: packet)
        } catch {
            statistics.sendErrors &+= 1
            throw error
        }
    }

    private func seal(_ buffer: UnsafeMutableRawBufferPointer, packet: Range<Int>) throws(ESPError) -> Range<Int> {
        guard packet.lowerBound >= 0, packet.upperBound <= buffer.count, let base = buffer.baseAddress else {
            throw ESPError(.invalidRange, "packet range outside the buffer", value: packet.upperBound)
        }
        guard packet.lowerBound >= headerLength else {
            throw ESPError(.insufficientHeadroom, "headroom before the inner packet", value: packet.lowerBound)
        }
        let inner = try ESPInnerProtocol.outbound(UnsafeRawBufferPointer(rebasing: buffer[packet]))
        // RFC 4303 §2.4: Pad Length and Next Header end on a 4-byte boundary (the AEADs here are
        // stream ciphers with no block size of their own) and, for CBC, on a cipher block.
        let block = protection.blockSize
        let padLength = (block - (packet.count + 2) % block) % block
        let plaintextCount = packet.count + padLength + 2
        let end = packet.lowerBound + plaintextCount + protection.icvLength
        guard end <= buffer.count else {
            throw ESPError(.insufficientTailroom, "tailroom after the inner packet", value: buffer.count - packet.upperBound)
        }
        guard lifetime.state(bytes: statistics.bytesOut, packets: statistics.packetsOut) != .hard else {
            throw ESPError(.lifetimeExpired, "hard lifetime reached; delete the SA")
        }
        // RFC 4303 §3.3.3: a counter must never cycle; without ESN the last number is 2^32 - 1.
        let limit: UInt64 = extendedSequenceNumbers ? .max : UInt64(UInt32.max)
        guard sequenceNumber < limit else {
            throw ESPError(.sequenceExhausted, "sequence number would wrap; rekey the SA")
        }
        let start = packet.lowerBound - headerLength
        let header = base + start
        if let ivSource {
            // RFC 3602 §2.4: a fresh unpredictable IV per packet, drawn before a sequence number
            // is spent so that a failing random source sends nothing.
            do {
                try ivSource.fill(UnsafeMutableRawBufferPointer(start: header + 8, count: headerLength - 8))
            } catch {
                throw ESPError(.cryptoFailure, "no random IV")
            }
        }
        sequenceNumber += 1
        let sequence = sequenceNumber

        header.storeBytes(of: spi.rawValue.bigEndian, toByteOffset: 0, as: UInt32.self)
        header.storeBytes(of: UInt32(truncatingIfNeeded: sequence).bigEndian, toByteOffset: 4, as: UInt32.self)

        // RFC 4303 §2.4: padding bytes are 1, 2, 3, ...; then Pad Length and Next Header.
        let trailer = base + packet.upperBound
        for i in 0..<padLength { trailer.storeBytes(of: UInt8(i + 1), toByteOffset: i, as: UInt8.self) }
        trailer.storeBytes(of: UInt8(padLength), toByteOffset: padLength, as: UInt8.self)
        trailer.storeBytes(of: inner.rawValue, toByteOffset: padLength + 1, as: UInt8.self)

        switch protection {
        case .aead(let cipher):
            header.storeBytes(of: (sequence ^ ivMask).bigEndian, toByteOffset: 8, as: UInt64.self)
            try sealAEAD(cipher, buffer, header: header, packet: packet, end: end, plaintextCount: plaintextCount, sequence: sequence)
        case .cbc(let cipher, let mac):
            try sealCBC(cipher, mac, buffer, base: base, start: start, packet: packet, end: end, plaintextCount: plaintextCount, sequence: sequence)
        }
        statistics.packetsOut &+= 1
        statistics.bytesOut &+= UInt64(packet.count)
        return start..<end
    }

    private func sealAEAD(_ cipher: any AEADCipher, _ buffer: UnsafeMutableRawBufferPointer, header: UnsafeMutableRawPointer,
                          packet: Range<Int>, end: Int, plaintextCount: Int, sequence: UInt64) throws(ESPError) {
        let iv = UnsafeRawBufferPointer(start: header + 8, count: cipher.ivLength)
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[packet.lowerBound..<end])
        do {
            if extendedSequenceNumbers {
                // RFC 4106 §5: with ESN the AAD is SPI || Seq high || Seq low (12 bytes), but only
                // the low half travels, so the AAD cannot simply point into the packet.
                try withUnsafeTemporaryAllocation(byteCount: 12, alignment: 4) { (aad) throws(CryptoError) in
                    aad.storeBytes(of: spi.rawValue.bigEndian, toByteOffset: 0, as: UInt32.self)
                    aad.storeBytes(of: UInt32(truncatingIfNeeded: sequence >> 32).bigEndian, toByteOffset: 4, as: UInt32.self)
                    aad.storeBytes(of: UInt32(truncatingIfNeeded: sequence).bigEndian, toByteOffset: 8, as: UInt32.self)
                    _ = try cipher.seal(iv: iv, aad: UnsafeRawBufferPointer(aad), buffer: payload, plaintextCount: plaintextCount)
                }
            } else {
                // RFC 4106 §5: SPI || Seq, which is exactly the first 8 bytes of the packet.
                let aad = UnsafeRawBufferPointer(start: header, count: 8)
                _ = try cipher.seal(iv: iv, aad: aad, buffer: payload, plaintextCount: plaintextCount)
            }
        } catch {
            throw ESPError(.cryptoFailure, "AEAD seal failed")
        }
    }

    // RFC 4303 §3.3.2 (encrypt, then compute the ICV over the ESP packet minus the ICV field) and
    // §3.3.2.1 / §2.2.1: with ESN the high 32 bits of the sequence number are appended to the
    // data the ICV covers, but not sent.
    private func sealCBC(_ cipher: any CBCCipher, _ mac: any IntegrityMAC, _ buffer: UnsafeMutableRawBufferPointer,
                         base: UnsafeMutableRawPointer, start: Int, packet: Range<Int>, end: Int, plaintextCount: Int, sequence: UInt64) throws(ESPError) {
        let ciphertextEnd = packet.lowerBound + plaintextCount
        do {
            try cipher.encrypt(iv: UnsafeRawBufferPointer(start: base + start + 8, count: cipher.ivLength),
                               buffer: UnsafeMutableRawBufferPointer(rebasing: buffer[packet.lowerBound..<ciphertextEnd]))
            let icv = UnsafeMutableRawBufferPointer(rebasing: buffer[ciphertextEnd..<end])
            if extendedSequenceNumbers {
                // Seq high goes where the ICV will be (the ICV is ≥ 12 bytes), the MAC into a
                // scratch buffer, then over it.
                (base + ciphertextEnd).storeBytes(of: UInt32(truncatingIfNeeded: sequence >> 32).bigEndian, as: UInt32.self)
                try withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { (scratch) throws(CryptoError) in
                    try mac.computeICV(over: UnsafeRawBufferPointer(rebasing: buffer[start..<(ciphertextEnd + 4)]), into: scratch)
                    icv.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[0..<mac.icvLength]))
                }
            } else {
                try mac.computeICV(over: UnsafeRawBufferPointer(rebasing: buffer[start..<ciphertextEnd]), into: icv)
            }
        } catch {
            throw ESPError(.cryptoFailure, "CBC encryption or HMAC failed")
        }
    }
}
