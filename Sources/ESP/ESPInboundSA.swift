import CryptoCore
import NetTypes

// RFC 4303 §3.4 (inbound packet processing): §3.4.3 sequence number verification, §3.4.4
// ICV verification, §2.4 padding, §2.6 Next Header (59 = dummy), §2.7 TFC padding;
// RFC 4106 §5 / RFC 7634 §2.1 (AAD, with and without ESN); RFC 3602 §3 (AES-CBC) with
// RFC 4868 §2 (HMAC-SHA-2 ICV): the ICV is verified (in constant time) before anything is
// decrypted, and with ESN it covers the reconstructed high half (RFC 4303 §3.4.4.1).
//
// Buffer layout, in place (the ESP packet as it came out of the UDP payload):
//
//     before:  | SPI | Seq | IV (8) | ciphertext ................................ | ICV (16) |
//     after:   | SPI | Seq | IV (8) | inner IP packet | TFC padding | pad | pl | nh | (wiped)  |
//                                     └─ returned ──┘
//
// Order, as §3.4.3 asks: cheap checks first (length, SPI, lifetime, replay pre-check on the
// reconstructed sequence number), then the ICV, and only for a verified packet the window update;
// the padding and inner packet are checked last, on authenticated data.

/// What an authenticated inbound packet turned out to be.
public enum ESPDecapsulated: Sendable, Hashable {
    /// An inner IP packet at this range of the caller's buffer.
    case packet(Range<Int>, ESPInnerProtocol)
    /// A TFC dummy packet (Next Header 59, RFC 4303 §2.6): counted and dropped, not an error.
    case dummy
}

/// The receiving half of one Child SA: anti-replay window, ICV check, padding and inner-packet
/// checks, and the counters. A class for the same reason as `ESPOutboundSA`: one window per SA.
public final class ESPInboundSA {
    public let spi: ESPSPI
    public let lifetime: ESPLifetime
    public private(set) var statistics = ESPStatistics()
    public private(set) var replayWindow: ReplayWindow

    private let protection: ESPProtection
    private let headerLength: Int

    public init(spi: ESPSPI, cipher: any AEADCipher, extendedSequenceNumbers: Bool,
                replayWindowSize: Int = ReplayWindow.defaultSize,
                lifetime: ESPLifetime = .unlimited) throws(ESPError) {
        guard cipher.algorithm.isAEAD, cipher.ivLength == 8, cipher.tagLength > 0 else {
            throw ESPError(.invalidConfiguration, "ESP needs an AEAD with an 8-byte IV")
        }
        guard spi.rawValue > 255 else {
            throw ESPError(.invalidConfiguration, "SPIs 0-255 are reserved", value: Int(spi.rawValue))
        }
        self.spi = spi
        self.protection = .aead(cipher)
        self.lifetime = lifetime
        self.replayWindow = try ReplayWindow(size: replayWindowSize, extendedSequenceNumbers: extendedSequenceNumbers)
        self.headerLength = 8 + cipher.ivLength
    }

    /// AES-CBC (RFC 3602) with an HMAC-SHA-2 ICV (RFC 4868): the same window, lifetimes and
    /// checks as the AEAD SAs, with the ICV checked before decryption.
    public init(spi: ESPSPI, cipher: any CBCCipher, integrity: any IntegrityMAC, extendedSequenceNumbers: Bool,
                replayWindowSize: Int = ReplayWindow.defaultSize,
                lifetime: ESPLifetime = .unlimited) throws(ESPError) {
        try ESPProtection.checkCBC(cipher, integrity)
        guard spi.rawValue > 255 else {
            throw ESPError(.invalidConfiguration, "SPIs 0-255 are reserved", value: Int(spi.rawValue))
        }
        self.spi = spi
        self.protection = .cbc(cipher, integrity)
        self.lifetime = lifetime
        self.replayWindow = try ReplayWindow(size: replayWindowSize, extendedSequenceNumbers: extendedSequenceNumbers)
        self.headerLength = 8 + cipher.ivLength
    }

    public var extendedSequenceNumbers: Bool { replayWindow.extendedSequenceNumbers }

    public var lifetimeState: ESPLifetimeState {
        lifetime.state(bytes: statistics.bytesIn, packets: statistics.packetsIn)
    }

    /// The shortest packet that can be valid: header, IV, Pad Length, Next Header (a whole block
    /// for CBC) and ICV.
    public var minimumPacketLength: Int {
        switch protection {
        case .aead: headerLength + 2 + protection.icvLength
        case .cbc: headerLength + protection.blockSize + protection.icvLength
        }
    }

    /// Verifies and decrypts the ESP packet at `buffer[packet]` in place. Every refusal is thrown
    /// as an `ESPError` and counted in `statistics` under its `dropReason`; nothing in the packet
    /// can make this trap or read outside `buffer[packet]`.
    public func decapsulate(_ buffer: UnsafeMutableRawBufferPointer, packet: Range<Int>) throws(ESPError) -> ESPDecapsulated {
        do {
            let result = try open(buffer, packet: packet)
            switch result {
            case .packet(let range, _):
                statistics.packetsIn &+= 1
                statistics.bytesIn &+= UInt64(range.count)
            case .dummy:
                statistics.dummyPacketsIn &+= 1
            }
            return result
        } catch {
            statistics.countDrop(error)
            throw error
        }
    }

    private func open(_ buffer: UnsafeMutableRawBufferPointer, packet: Range<Int>) throws(ESPError) -> ESPDecapsulated {
        guard packet.lowerBound >= 0, packet.upperBound <= buffer.count, let base = buffer.baseAddress else {
            throw ESPError(.invalidRange, "packet range outside the buffer", value: packet.upperBound)
        }
        guard packet.count >= minimumPacketLength else {
            throw ESPError(.truncated, "shorter than header, IV, trailer and ICV", value: packet.count)
        }
        let header = UnsafeRawPointer(base + packet.lowerBound)
        let spiValue = UInt32(bigEndian: header.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard spiValue == spi.rawValue else {
            throw ESPError(.unknownSPI, "SPI is not this SA's", value: Int(spiValue))
        }
        guard lifetimeState != .hard else {
            throw ESPError(.lifetimeExpired, "hard lifetime reached; delete the SA")
        }
        let low = UInt32(bigEndian: header.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let sequence = try replayWindow.reconstruct(low: low)
        try replayWindow.check(sequence)

        let bodyStart = packet.lowerBound + headerLength
        let plaintextCount: Int
        switch protection {
        case .aead(let cipher):
            plaintextCount = try openAEAD(cipher, buffer, header: header, bodyStart: bodyStart, packet: packet,
                                          spiValue: spiValue, low: low, sequence: sequence)
        case .cbc(let cipher, let mac):
            plaintextCount = try openCBC(cipher, mac, buffer, base: base, bodyStart: bodyStart, packet: packet, sequence: sequence)
        }
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[bodyStart..<packet.upperBound])
        // Authentic: the sequence number is spent even if what follows is refused (§3.4.3).
        replayWindow.accept(sequence)

        // RFC 4303 §2.4–2.6: ... | Padding | Pad Length | Next Header.
        let plaintext = UnsafeRawBufferPointer(rebasing: body[0..<plaintextCount])
        let nextHeader = plaintext[plaintextCount - 1]
        let padLength = Int(plaintext[plaintextCount - 2])
        guard padLength <= plaintextCount - 2 else {
            throw ESPError(.badPadLength, "Pad Length exceeds the payload", value: padLength)
        }
        let payloadCount = plaintextCount - 2 - padLength
        // The receiver SHOULD check the padding (§2.4); a sender that followed the default scheme
        // wrote 1, 2, 3, ... and anything else is a broken or hostile peer.
        for i in 0..<padLength where plaintext[payloadCount + i] != UInt8(truncatingIfNeeded: i + 1) {
            throw ESPError(.badPadding, "padding byte is not its 1-based position", value: i)
        }
        if nextHeader == ESPInnerProtocol.dummyNextHeader { return .dummy }
        guard let inner = ESPInnerProtocol(rawValue: nextHeader) else {
            throw ESPError(.unknownNextHeader, "Next Header is not IPv4, IPv6 or dummy", value: Int(nextHeader))
        }
        // §2.7: TFC padding may follow the inner packet; its own header says where it ends.
        let length = try inner.innerLength(UnsafeRawBufferPointer(rebasing: plaintext[0..<payloadCount]))
        return .packet(bodyStart..<(bodyStart + length), inner)
    }

    private func openAEAD(_ cipher: any AEADCipher, _ buffer: UnsafeMutableRawBufferPointer, header: UnsafeRawPointer,
                          bodyStart: Int, packet: Range<Int>, spiValue: UInt32, low: UInt32, sequence: UInt64) throws(ESPError) -> Int {
        // The 4-byte alignment of the ciphertext (§2.4) is the sender's duty and is not checked:
        // the ICV decides, and an authentic packet of odd length harms nothing.
        let iv = UnsafeRawBufferPointer(start: header + 8, count: cipher.ivLength)
        let body = UnsafeMutableRawBufferPointer(rebasing: buffer[bodyStart..<packet.upperBound])
        let plaintextCount: Int
        do {
            if replayWindow.extendedSequenceNumbers {
                // RFC 4106 §5: the AAD carries the reconstructed high half, which is how a wrong
                // guess of Seqh (or a replay from another 2^32 cycle) fails the ICV.
                plaintextCount = try withUnsafeTemporaryAllocation(byteCount: 12, alignment: 4) { (aad) throws(CryptoError) -> Int in
                    aad.storeBytes(of: spiValue.bigEndian, toByteOffset: 0, as: UInt32.self)
                    aad.storeBytes(of: UInt32(truncatingIfNeeded: sequence >> 32).bigEndian, toByteOffset: 4, as: UInt32.self)
                    aad.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt32.self)
                    return try cipher.open(iv: iv, aad: UnsafeRawBufferPointer(aad), buffer: body, ciphertextCount: body.count)
                }
            } else {
                let aad = UnsafeRawBufferPointer(start: header, count: 8)
                plaintextCount = try cipher.open(iv: iv, aad: aad, buffer: body, ciphertextCount: body.count)
            }
        } catch where error.code == .authenticationFailed {
            throw ESPError(.authenticationFailed, "ICV did not verify", value: Int(truncatingIfNeeded: sequence))
        } catch {
            throw ESPError(.cryptoFailure, "AEAD open failed")
        }
        guard plaintextCount >= 2, plaintextCount <= body.count else {
            throw ESPError(.cryptoFailure, "AEAD returned an impossible length", value: plaintextCount)
        }
        return plaintextCount
    }

    // RFC 4303 §3.4.4.1: the ICV over SPI, Seq, IV and ciphertext (with ESN, then the
    // reconstructed Seq high) is verified first, in constant time; only an authentic packet is
    // decrypted (§3.4.4.2).
    private func openCBC(_ cipher: any CBCCipher, _ mac: any IntegrityMAC, _ buffer: UnsafeMutableRawBufferPointer,
                         base: UnsafeMutableRawPointer, bodyStart: Int, packet: Range<Int>, sequence: UInt64) throws(ESPError) -> Int {
        let ciphertextEnd = packet.upperBound - mac.icvLength
        guard (ciphertextEnd - bodyStart) % cipher.blockSize == 0 else {
            throw ESPError(.truncated, "CBC ciphertext is not a whole number of blocks", value: ciphertextEnd - bodyStart)
        }
        do {
            if replayWindow.extendedSequenceNumbers {
                // Seq high is appended for the check only: it overwrites the start of the received
                // ICV, which is first copied aside (≤ 32 bytes, on the stack).
                try withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { (scratch) throws(CryptoError) in
                    let received = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<mac.icvLength])
                    received.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[ciphertextEnd..<packet.upperBound]))
                    (base + ciphertextEnd).storeBytes(of: UInt32(truncatingIfNeeded: sequence >> 32).bigEndian, as: UInt32.self)
                    try mac.verifyICV(over: UnsafeRawBufferPointer(rebasing: buffer[packet.lowerBound..<(ciphertextEnd + 4)]),
                                      icv: UnsafeRawBufferPointer(received))
                }
            } else {
                try mac.verifyICV(over: UnsafeRawBufferPointer(rebasing: buffer[packet.lowerBound..<ciphertextEnd]),
                                  icv: UnsafeRawBufferPointer(rebasing: buffer[ciphertextEnd..<packet.upperBound]))
            }
        } catch where error.code == .authenticationFailed {
            throw ESPError(.authenticationFailed, "ICV did not verify", value: Int(truncatingIfNeeded: sequence))
        } catch {
            throw ESPError(.cryptoFailure, "HMAC failed")
        }
        do {
            try cipher.decrypt(iv: UnsafeRawBufferPointer(start: base + packet.lowerBound + 8, count: cipher.ivLength),
                               buffer: UnsafeMutableRawBufferPointer(rebasing: buffer[bodyStart..<ciphertextEnd]))
        } catch {
            throw ESPError(.cryptoFailure, "CBC decryption failed")
        }
        return ciphertextEnd - bodyStart
    }
}
