// Seeded mutation fuzzing of the decoder with the real packets (RFC 7296 §3 robustness: never trap,
// never over-read, every accepted message re-encodes and decodes to the same value).
@testable import IKEv2
import TestSupport
import Testing

@Suite("Mutation fuzzing")
struct FuzzTests {
    enum Mutation: CaseIterable { case bitFlip, byteSet, lengthEdit, truncate, duplicate, delete, splice }

    /// Applies one to three mutations.
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Mutation.allCases.randomElement(using: &rng)! {
            case .bitFlip:
                bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case .byteSet:
                bytes[at] = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, UInt8.random(in: 0...255, using: &rng)]
                    .randomElement(using: &rng)!
            case .lengthEdit:
                // Treat two octets as a big-endian length and nudge or replace it.
                guard at + 1 < bytes.count else { break }
                let old = Int(bytes[at]) << 8 | Int(bytes[at + 1])
                let new = [old + 1, old - 1, old + 4, old - 4, old * 2, 0, 3, 4, 0xffff, Int.random(in: 0...0xffff, using: &rng)]
                    .randomElement(using: &rng)! & 0xffff
                bytes[at] = UInt8(new >> 8)
                bytes[at + 1] = UInt8(new & 0xff)
            case .truncate:
                bytes.removeSubrange(at...)
            case .duplicate:
                let end = min(bytes.count, at + Int.random(in: 1...64, using: &rng))
                let chunk = Array(bytes[at..<end])
                bytes.insert(contentsOf: chunk, at: Int.random(in: 0...bytes.count, using: &rng))
            case .delete:
                let end = min(bytes.count, at + Int.random(in: 1...16, using: &rng))
                bytes.removeSubrange(at..<end)
            case .splice:
                // Overwrite with a run taken from another real message.
                let donor = Fixtures.messages.randomElement(using: &rng)!.bytes
                let from = Int.random(in: 0..<donor.count, using: &rng)
                for (i, b) in donor[from..<min(donor.count, from + 24)].enumerated() where at + i < bytes.count {
                    bytes[at + i] = b
                }
            }
        }
        return bytes
    }

    /// Makes the IKE header length agree with the datagram so mutations reach the payloads.
    static func fixLength(_ bytes: inout [UInt8]) {
        guard bytes.count >= 28 else { return }
        let n = bytes.count
        bytes[24] = UInt8(truncatingIfNeeded: n >> 24)
        bytes[25] = UInt8(truncatingIfNeeded: n >> 16)
        bytes[26] = UInt8(truncatingIfNeeded: n >> 8)
        bytes[27] = UInt8(truncatingIfNeeded: n)
    }

    @Test("24,000 mutations of the real messages: no trap; every success re-encodes and re-decodes equal")
    func outerMessages() throws {
        var rng = SplitMix64(seed: 0x5EED_1CE2_0000_0001)
        var accepted = 0
        var codes: [IKEDecodeError.Code: Int] = [:]
        for iteration in 0..<24_000 {
            let base = Fixtures.messages[iteration % Fixtures.messages.count].bytes
            var bytes = Self.mutate(base, &rng)
            if Bool.random(using: &rng) { Self.fixLength(&bytes) }
            do {
                let message = try IKEMessage(decoding: bytes)
                accepted += 1
                let encoded = try message.encoded()
                let again = try IKEMessage(decoding: encoded)
                #expect(again == message, "iteration \(iteration)")
                #expect(try again.encoded() == encoded, "iteration \(iteration)")
            } catch let error as IKEDecodeError {
                codes[error.code, default: 0] += 1
                #expect(error.offset >= 0 && error.offset <= bytes.count, "iteration \(iteration)")
            }
        }
        #expect(accepted > 500)
        #expect(codes.count >= 8, "\(codes)")
    }

    @Test("16,000 mutations of the real SK plaintexts: no trap; every success round-trips")
    func innerChains() throws {
        var rng = SplitMix64(seed: 0x5EED_1CE2_0000_0002)
        let chains = Fixtures.innerChains.filter { !$0.bytes.isEmpty }
        var accepted = 0
        for iteration in 0..<16_000 {
            let (_, first, base) = chains[iteration % chains.count]
            let bytes = Self.mutate(base, &rng)
            let firstType = IKEPayloadType(rawValue: Int.random(in: 0..<8, using: &rng) == 0
                ? UInt8.random(in: 0...255, using: &rng) : first)
            do {
                let payloads = try IKEMessage.decodeInnerPayloads(bytes, firstPayload: firstType)
                accepted += 1
                let encoded = try IKEMessage.encodeInnerPayloads(payloads)
                #expect(try IKEMessage.decodeInnerPayloads(encoded.bytes, firstPayload: encoded.firstPayload) == payloads,
                        "iteration \(iteration)")
            } catch let error as IKEDecodeError {
                #expect(error.offset >= 0 && error.offset <= bytes.count, "iteration \(iteration)")
            }
        }
        #expect(accepted > 500)
    }

    @Test("Random garbage after a valid header never traps")
    func garbage() {
        var rng = SplitMix64(seed: 0x5EED_1CE2_0000_0003)
        for _ in 0..<4_000 {
            var bytes = Array(Fixtures.ikeSAInitRequest.prefix(28))
            bytes[16] = [33, 34, 35, 41, 44, 46, 47, 53, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 0...200, using: &rng) { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
            Self.fixLength(&bytes)
            if let message = try? IKEMessage(decoding: bytes) {
                #expect((try? message.encoded()) != nil)
            }
        }
    }
}
