// RFC 7296 §2.5 / §3 malformed-input handling: each failure has its own stable code and an offset.
@testable import IKEv2
import NetTypes
import Testing

@Suite("Malformed input")
struct MalformedTests {
    /// A message around one payload body of the given type (lengths filled in).
    static func wrap(_ type: UInt8, _ body: [UInt8], next: UInt8 = 0) -> [UInt8] {
        let payload = [next, 0] + be16(body.count + 4) + body
        return header(first: type, length: 28 + payload.count) + payload
    }

    static func header(first: UInt8, length: Int, version: UInt8 = 0x20) -> [UInt8] {
        [UInt8](repeating: 1, count: 8) + [UInt8](repeating: 0, count: 8) + [first, version, 34, 0x08, 0, 0, 0, 0]
            + be16(0) + be16(length)
    }

    static func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }

    static func code(_ bytes: [UInt8]) -> IKEDecodeError.Code? { decodeError(bytes)?.code }

    @Test("Version: major > 2 is invalidMajorVersion (answer INVALID_MAJOR_VERSION), < 2 obsolete")
    func versions() throws {
        var m = Fixtures.ikeSAInitRequest
        m[17] = 0x30
        let error = try #require(decodeError(m))
        #expect(error.code == .invalidMajorVersion && error.offset == 17)
        // The header alone still decodes, so the engine can address its reply.
        let header = try IKEHeader(decoding: m)
        #expect(header.majorVersion == 3 && header.initiatorSPI == IKESPI(0x34f8_571f_f6f0_7cfe))
        m[17] = 0x10
        #expect(Self.code(m) == .obsoleteMajorVersion)
        m[17] = 0x21  // minor version 1 is fine
        #expect(Self.code(m) == nil)
    }

    @Test("Header length: too small, shorter and longer than the datagram")
    func headerLength() {
        #expect(Self.code(Self.header(first: 0, length: 20)) == .badHeaderLength)
        #expect(Self.code(Self.header(first: 0, length: 28)) == nil)
        #expect(Self.code(Self.header(first: 0, length: 29)) == .truncated)
        #expect(Self.code(Self.header(first: 0, length: 28) + [0]) == .lengthMismatch)
        #expect(decodeError([])?.isTruncation == true)
    }

    @Test("Payload chain: short header, bad length, overrun, trailing data, limits, nested SK")
    func chain() {
        // Next payload announced, nothing follows.
        #expect(Self.code(Self.header(first: 40, length: 28)) == .missingPayload)
        // Partial generic header.
        #expect(Self.code(Self.header(first: 40, length: 30) + [0, 0]) == .badPayloadLength)
        // Payload length below 4.
        #expect(Self.code(Self.header(first: 40, length: 32) + [0, 0, 0, 3]) == .badPayloadLength)
        // Payload length past the message.
        let overrun = Self.header(first: 40, length: 36) + [0, 0, 0, 9, 1, 2, 3, 4]
        let e = decodeError(overrun)
        #expect(e?.code == .badPayloadLength && e?.offset == 32)
        // Bytes after the last payload.
        #expect(Self.code(Self.header(first: 40, length: 34) + [0, 0, 0, 5, 1, 9]) == .trailingBytes)
        // Bytes after SK.
        #expect(Self.code(Self.header(first: 46, length: 34) + [40, 0, 0, 5, 1, 9]) == .trailingBytes)
        // 257 empty nonces.
        var many: [UInt8] = []
        for i in 0..<257 { many += [i == 256 ? 0 : 40, 0, 0, 4] }
        #expect(Self.code(Self.header(first: 40, length: 28 + many.count) + many) == .limitExceeded)
        // SK inside SK plaintext.
        #expect(innerDecodeError([0, 0, 0, 4], first: .encrypted)?.code == .nestedEncryptedPayload)
        #expect(innerDecodeError([0, 0, 0, 8, 0, 1, 0, 1], first: .encryptedFragment)?.code == .nestedEncryptedPayload)
    }

    @Test("Fields overrunning a payload's declared length")
    func fieldOverrun() {
        #expect(Self.code(Self.wrap(34, [0, 19])) == .fieldOverrun)          // KE without reserved
        #expect(Self.code(Self.wrap(35, [2, 0])) == .fieldOverrun)           // ID without reserved
        #expect(Self.code(Self.wrap(41, [0, 0, 0x40])) == .fieldOverrun)     // Notify type cut
        #expect(Self.code(Self.wrap(41, [3, 4, 0x40, 0x09, 1, 2])) == .fieldOverrun)  // SPI cut
        #expect(Self.code(Self.wrap(47, [1, 0, 0, 0, 0, 1, 0, 4, 1])) == .fieldOverrun)  // CP attribute cut
        #expect(Self.code(Self.wrap(53, [0, 1])) == .fieldOverrun)           // SKF numbers cut
    }

    static let transform: [UInt8] = [0, 0, 0, 8, 4, 0, 0, 19]
    static func proposal(last: UInt8 = 0, protocolID: UInt8 = 1, spi: [UInt8] = [], count: UInt8 = 1,
                         transforms: [UInt8] = transform) -> [UInt8] {
        let body = [1, protocolID, UInt8(spi.count), count] + spi + transforms
        return [last, 0] + be16(body.count + 4) + body
    }

    @Test("SA structure: SPI sizes, counts, lengths, last-substruc")
    func securityAssociation() {
        #expect(Self.code(Self.wrap(33, Self.proposal())) == nil)
        #expect(Self.code(Self.wrap(33, [])) == nil)  // empty SA: a policy question for the engine
        #expect(Self.code(Self.wrap(33, Self.proposal(spi: [1, 2, 3]))) == .invalidSPISize)
        #expect(Self.code(Self.wrap(33, Self.proposal(protocolID: 3, spi: []))) == .invalidSPISize)
        #expect(Self.code(Self.wrap(33, Self.proposal(protocolID: 3, spi: [1, 2, 3, 4, 5, 6, 7, 8]))) == .invalidSPISize)
        #expect(Self.code(Self.wrap(33, Self.proposal(protocolID: 1, spi: [1, 2, 3, 4, 5, 6, 7, 8]))) == nil)
        #expect(Self.code(Self.wrap(33, Self.proposal(count: 2))) == .countMismatch)
        #expect(Self.code(Self.wrap(33, Self.proposal(last: 2))) == .invalidSubstructure)
        #expect(Self.code(Self.wrap(33, Self.proposal(last: 7))) == .invalidSubstructure)
        #expect(Self.code(Self.wrap(33, Self.proposal() + Self.proposal())) == .trailingBytes)
        #expect(Self.code(Self.wrap(33, Self.proposal(last: 2) + Self.proposal())) == nil)
        #expect(Self.code(Self.wrap(33, Self.proposal(transforms: [3, 0, 0, 8, 4, 0, 0, 19]))) == .invalidSubstructure)
        #expect(Self.code(Self.wrap(33, Self.proposal(transforms: [0, 0, 0, 7, 4, 0, 0, 19]))) == .badSubstructureLength)
        #expect(Self.code(Self.wrap(33, Self.proposal(transforms: [0, 0, 0, 9, 4, 0, 0, 19]))) == .badSubstructureLength)
        #expect(Self.code(Self.wrap(33, [0, 0, 0, 7, 1, 1, 0, 0])) == .badSubstructureLength)
        // Attribute value cut inside the transform.
        #expect(Self.code(Self.wrap(33, Self.proposal(transforms: [0, 0, 0, 10, 1, 0, 0, 20, 0x80, 14]))) == .fieldOverrun)
        // TLV attribute longer than the transform.
        #expect(Self.code(Self.wrap(33, Self.proposal(transforms: [0, 0, 0, 14, 1, 0, 0, 20, 0, 99, 0, 9, 1, 2]))) == .fieldOverrun)
    }

    @Test("Traffic selectors, Delete and Notify SPI rules")
    func otherStructures() {
        let ts4: [UInt8] = [7, 0, 0, 16, 0, 0, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255]
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0] + ts4)) == nil)
        #expect(Self.code(Self.wrap(44, [2, 0, 0, 0] + ts4)) == .countMismatch)
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0] + ts4 + [0])) == .countMismatch)
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0, 7, 0, 0, 40] + [UInt8](repeating: 0, count: 36))) == .badSelectorLength)
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0, 8, 0, 0, 16] + [UInt8](repeating: 0, count: 12))) == .badSelectorLength)
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0, 10, 0, 0, 3])) == .badSelectorLength)
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0, 10, 0, 0, 9, 1])) == .badSubstructureLength)
        #expect(Self.code(Self.wrap(44, [1, 0, 0, 0, 10, 0, 0, 5, 1])) == nil)  // unknown TS type kept
        #expect(Self.code(Self.wrap(42, [3, 4, 0, 2, 1, 2, 3, 4])) == .countMismatch)
        #expect(Self.code(Self.wrap(42, [3, 4, 0, 1, 1, 2, 3, 4])) == nil)
        #expect(Self.code(Self.wrap(42, [3, 8, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8])) == .invalidSPISize)
        #expect(Self.code(Self.wrap(42, [1, 8, 0, 0])) == .invalidSPISize)
        #expect(Self.code(Self.wrap(42, [1, 0, 0, 0])) == nil)
        #expect(Self.code(Self.wrap(42, [9, 0, 0, 5])) == .countMismatch)  // 5 SPIs of size 0
        #expect(Self.code(Self.wrap(41, [3, 5, 0x40, 0x09, 1, 2, 3, 4, 5])) == .invalidSPISize)
        #expect(Self.code(Self.wrap(41, [1, 8, 0x40, 0x09, 1, 2, 3, 4, 5, 6, 7, 8])) == nil)
    }

    @Test("Error codes are stable strings")
    func stableCodes() {
        #expect(IKEDecodeError.Code.truncated.rawValue == "truncated")
        #expect(IKEDecodeError.Code.invalidMajorVersion.rawValue == "invalidMajorVersion")
        #expect(IKEDecodeError.Code.allCases.count == Set(IKEDecodeError.Code.allCases.map(\.rawValue)).count)
        let e = IKEDecodeError(.invalidSPISize, offset: 40, context: "x")
        #expect(e.description.contains("invalidSPISize") && e.description.contains("40"))
    }
}
