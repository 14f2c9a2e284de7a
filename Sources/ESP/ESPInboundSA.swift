import CryptoCore
import NetTypes

// RFC 4303 §3.4 (inbound packet processing): §3.4.3 sequence number verification, §3.4.4
// ICV verification, §2.4 padding, §2.6 Next Header (59 = dummy), §2.7 TFC padding;
// RFC 4106 §5 / RFC 7634 §2.1 (AAD, with and without ESN).
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

    private let cipher: any AEADCipher
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
        self.cipher = cipher
        self.lifetime = lifetime
        self.replayWindow = try ReplayWindow(size: replayWindowSize, extendedSequenceNumbers: extendedSequenceNumbers)
        self.headerLength = 8 + cipher.ivLength
    }

    public var extendedSequenceNumbers: Bool { replayWindow.extendedSequenceNumbers }

    public var lifetimeState: ESPLifetimeState {
        lifetime.state(bytes: statistics.bytesIn, packets: statistics.packetsIn)
    }

    /// The shortest packet that can be valid: header, IV, Pad Length, Next Header and ICV.
    public var minimumPacketLength: Int { headerLength + 2 + cipher.tagLength }

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

        // The 4-byte alignment of the ciphertext (§2.4) is the sender's duty and is not checked:
        // the ICV decides, and an authentic packet of odd length harms nothing.
        let iv = UnsafeRawBufferPointer(start: header + 8, count: cipher.ivLength)
        let bodyStart = packet.lowerBound + headerLength
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
}
