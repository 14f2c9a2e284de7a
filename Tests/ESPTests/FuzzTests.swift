// Seeded mutation fuzzing (RFC 4303 §3.4 robustness): no input traps or reads outside its packet;
// every packet is either delivered or counted under exactly one drop reason; nothing forged is
// ever delivered.
import ViaductCrypto
import CryptoCore
import ESP
import TestSupport
import Testing

@Suite("Mutation fuzzing")
struct FuzzTests {
    enum Mutation: CaseIterable { case bitFlip, byteSet, truncate, extend, duplicate, delete, splice, sequence }

    /// One to three mutations; `donors` supply spliced runs.
    static func mutate(_ input: [UInt8], donors: [[UInt8]], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Mutation.allCases.randomElement(using: &rng) ?? .bitFlip {
            case .bitFlip: bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case .byteSet: bytes[at] = [0, 1, 2, 3, 4, 41, 59, 0x7f, 0x80, 0xff, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng) ?? 0
            case .truncate: bytes.removeSubrange(at...)
            case .extend: bytes += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case .duplicate:
                let end = min(bytes.count, at + Int.random(in: 1...32, using: &rng))
                bytes.insert(contentsOf: Array(bytes[at..<end]), at: Int.random(in: 0...bytes.count, using: &rng))
            case .delete: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &rng)))
            case .splice:
                let donor = donors.randomElement(using: &rng) ?? []
                guard !donor.isEmpty else { break }
                let from = Int.random(in: 0..<donor.count, using: &rng)
                let n = min(donor.count - from, bytes.count - at, Int.random(in: 1...24, using: &rng))
                bytes.replaceSubrange(at..<(at + n), with: donor[from..<(from + n)])
            case .sequence:
                // The header fields the receiver acts on before the ICV: SPI and sequence number.
                guard bytes.count >= 8 else { break }
                let field = Bool.random(using: &rng) ? 0 : 4
                let value: UInt32 = [0, 1, 2, 3, .max, UInt32.random(in: 0...UInt32.max, using: &rng)].randomElement(using: &rng) ?? 0
                for i in 0..<4 { bytes[field + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * i)) }
            }
        }
        return bytes
    }

    /// Decapsulates a copy inside a larger buffer with guard bytes around it, so an out-of-range
    /// write would show; returns the delivered bytes or the error.
    static func decapsulateGuarded(_ table: ESPInboundSATable, _ packet: [UInt8]) -> Result<[UInt8]?, ESPError> {
        var buffer = [UInt8](repeating: 0xA5, count: 32) + packet + [UInt8](repeating: 0x5A, count: 32)
        let range = 32..<(32 + packet.count)
        let result = Result { () throws(ESPError) in
            try buffer.withMutableBytes { (b) throws(ESPError) in try table.decapsulate(b, packet: range) }
        }
        #expect(buffer[0..<32].allSatisfy { $0 == 0xA5 } && buffer[(32 + packet.count)...].allSatisfy { $0 == 0x5A })
        switch result {
        case .success(.packet(let inner, _)):
            #expect(inner.lowerBound >= range.lowerBound + 16 && inner.upperBound <= range.upperBound - 18)
            return .success(Array(buffer[inner]))
        case .success(.dummy): return .success(nil)
        case .failure(let error): return .failure(error)
        }
    }

    /// Everything the SAs and the table counted, as (delivered + dummy, drops).
    static func totals(_ table: ESPInboundSATable, _ sas: [ESPInboundSA]) -> (UInt64, UInt64) {
        let delivered = sas.reduce(0) { $0 + $1.statistics.packetsIn + $1.statistics.dummyPacketsIn }
        let drops = sas.reduce(table.statistics.dropsTotal) { $0 + $1.statistics.dropsTotal }
        return (delivered, drops)
    }

    @Test("12,000 mutations of the real capture: never delivered unless genuine, always counted")
    func ciphertextMutations() throws {
        let (east, west) = try RealPacketTests.inboundSAs()
        let table = ESPInboundSATable()
        table.insert(east)
        table.insert(west)
        let originals = CaptureFixtures.frames.map(\.esp)
        let genuine = Set(CaptureFixtures.frames.map { Array($0.plaintext.dropLast(4)) })
        let donors = originals + CaptureFixtures.rekeyedFrames
        var rng = SplitMix64(seed: 0xE5B0_4303)
        var attempts: UInt64 = 0
        for _ in 0..<12_000 {
            let base = donors.randomElement(using: &rng) ?? []
            let mutated = Self.mutate(base, donors: donors, &rng)
            attempts += 1
            switch Self.decapsulateGuarded(table, mutated) {
            case .success(let inner?): #expect(genuine.contains(inner), "forged packet delivered: \(mutated)")
            case .success(nil): Issue.record("a dummy packet from a mutated ping: \(mutated)")
            case .failure: break
            }
            _ = ESPInUDPPayload.classify(mutated)
        }
        let (delivered, drops) = Self.totals(table, [east, west])
        #expect(delivered + drops == attempts)
        #expect(delivered <= 4)   // at most each genuine packet once
        #expect(drops > 11_000 && table.statistics.dropsUnknownSPI > 0 && east.statistics.dropsBadICV > 0)
    }

    @Test("10,000 mutations of authentic plaintexts: every trailer and inner header path, never a trap")
    func plaintextMutations() throws {
        let algorithms: [(EncryptionAlgorithm, Bool)] = [(.aesGCM16(keyBits: 128), false), (.chacha20Poly1305, true)]
        var rng = SplitMix64(seed: 0x7634_4106)
        for (algorithm, esn) in algorithms {
            let table = ESPInboundSATable()
            let sa = try makePair(algorithm, esn: esn, window: 4096).in
            table.insert(sa)
            let bases = [espPlaintext(ipv4Packet(total: 84), nextHeader: 4), espPlaintext(ipv6Packet(total: 61), nextHeader: 41),
                         espPlaintext(ipv4Packet(total: 40), nextHeader: 4, tfc: 9), [0, 0, 0, 59]]
            var counts: [ESPDropReason: Int] = [:]
            var delivered = 0, dummies = 0
            for n in 1...5_000 {
                let plaintext = Self.mutate(bases.randomElement(using: &rng) ?? [], donors: bases, &rng)
                let packet = try craft(algorithm, sequence: UInt64(n), esn: esn, plaintext: plaintext)
                switch Self.decapsulateGuarded(table, packet) {
                case .success(let inner?):
                    delivered += 1
                    // Delivered bytes are a prefix of the plaintext, a whole IP packet by its own header.
                    #expect(plaintext.starts(with: inner) && inner.count <= plaintext.count - 2)
                    let version = inner.first.map { $0 >> 4 }
                    #expect(version == 4 || version == 6)
                    #expect(plaintext.last == (version == 4 ? 4 : 41))
                case .success(nil):
                    dummies += 1
                    #expect(plaintext.last == 59)
                case .failure(let error):
                    counts[error.dropReason, default: 0] += 1
                    // The packet was authentic, so it cannot fail as a forgery or a replay.
                    #expect(error.dropReason != .badICV && error.dropReason != .replay, "\(error)")
                }
            }
            for reason in ESPDropReason.allCases {
                #expect(sa.statistics[reason] == UInt64(counts[reason, default: 0]), "\(reason)")
            }
            #expect(sa.statistics.packetsIn == UInt64(delivered) && sa.statistics.dummyPacketsIn == UInt64(dummies))
            #expect(delivered > 0 && counts[.padding, default: 0] > 0 && counts[.malformed, default: 0] > 0
                    && counts[.unknownNextHeader, default: 0] > 0)
            // Every number was authentic and therefore spent, whatever its fate.
            #expect(sa.replayWindow.highest == 5_000)
        }
    }
}
