import KernelModel
import TestSupport
import Testing
import Topology

/// Malformed and cut replies must come back as typed errors, never a crash; a cut buffer (`truncated`) is
/// told apart from a structure too short for its kernel layout (`shortValue`) and a bad length (`badLength`).
@Suite("Decoder robustness")
struct FuzzTests {
    /// Captured messages plus encoded ones covering every decoder.
    static func corpus() throws -> [NetlinkMessage] {
        var out: [NetlinkMessage] = []
        for capture in [IPRoute2Captures.saGetReply, IPRoute2Captures.xfrmLinkReply, IPRoute2Captures.linkAddAck,
                        IPRoute2Captures.probeError, IPRoute2Captures.polAddOutIfid, IPRoute2Captures.addrAdd,
                        IPRoute2Captures.routeAddSrc, IPRoute2Captures.linkAddVti] {
            out += try NetlinkMessage.decodeAll(hex(capture))
        }
        let sa = try XfrmState(decoding: out[0])
        out.append(try XfrmExpire(state: sa, hard: true).encoded())
        return out
    }

    /// Every decoder applied to one message; each either decodes or throws a NetlinkDecodeError.
    @discardableResult
    static func decodeEverything(_ m: NetlinkMessage) -> [NetlinkDecodeError] {
        var errors: [NetlinkDecodeError] = []
        func attempt<T>(_ f: () throws(NetlinkDecodeError) -> T) {
            do { _ = try f() } catch { errors.append(error) }
        }
        attempt { () throws(NetlinkDecodeError) in try XfrmState(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try XfrmPolicy(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try XfrmEvent(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try XfrmAcquire(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try ObservedLink(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try LinkAddress(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try Route(decoding: m) }
        attempt { () throws(NetlinkDecodeError) in try NetlinkAck(decoding: m) }
        return errors
    }

    @Test func everyPrefixOfABufferIsTruncatedNotMalformed() throws {
        for m in try Self.corpus() {
            let bytes = m.encoded()
            #expect(try NetlinkMessage.decodeAll(bytes) == [m])
            for cut in 1..<bytes.count {
                #expect(throws: NetlinkDecodeError.self) { try NetlinkMessage.decodeAll(Array(bytes[0..<cut])) }
                do { _ = try NetlinkMessage.decodeAll(Array(bytes[0..<cut])) } catch {
                    #expect(error.code == .truncated, "cut at \(cut) of \(bytes.count)")
                }
            }
        }
    }

    @Test func headerLengthBelowSixteenIsBadLength() {
        var bytes = NetlinkMessage(type: 16, flags: [], payload: [0, 0, 0, 0]).encoded()
        bytes[0] = 8
        #expect(throws: NetlinkDecodeError(.badLength, offset: 0, context: "nlmsg_len 8 below the header size")) {
            try NetlinkMessage.decodeAll(bytes)
        }
    }

    /// Cutting the payload inside the fixed structure is `shortValue`; inside an attribute, `truncated`;
    /// at an attribute boundary the message is still valid (the kernel may omit trailing attributes).
    @Test func cutPayloadsAreClassified() throws {
        let reply = try NetlinkMessage.decodeAll(hex(IPRoute2Captures.saGetReply))[0]
        let attributeStarts: Set<Int> = [224, 224 + 112, 224 + 112 + 16, 224 + 112 + 16 + 8]
        for cut in 0..<reply.payload.count {
            var m = reply
            m.payload = Array(reply.payload[0..<cut])
            do {
                _ = try XfrmState(decoding: m)
                #expect(attributeStarts.contains(cut), "decoded a cut at \(cut)")
            } catch {
                if cut < 224 {
                    #expect(error.code == .shortValue, "cut at \(cut): \(error)")
                } else {
                    #expect(error.code == .truncated, "cut at \(cut): \(error)")
                }
            }
        }
    }

    @Test func attributeLengthBelowFourIsBadLength() throws {
        var m = try NetlinkMessage.decodeAll(hex(IPRoute2Captures.addrAdd))[0]
        m.type = RouteMessageType.newAddress
        m.payload[8] = 2   // first attribute's nla_len
        m.payload[9] = 0
        #expect { try LinkAddress(decoding: m) } throws: { ($0 as? NetlinkDecodeError)?.code == .badLength }
    }

    /// Seeded random corruption of each corpus message: many decodes, no crash. The seed is printed so a
    /// failure can be replayed.
    @Test(arguments: [UInt64(1), 0x5eed, 0xdead_beef])
    func randomCorruptionNeverCrashes(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var decoded = 0, rejected = 0
        for base in try Self.corpus() {
            for _ in 0..<400 {
                var m = base
                let flips = Int.random(in: 1...6, using: &rng)
                for _ in 0..<flips where !m.payload.isEmpty {
                    let i = Int.random(in: 0..<m.payload.count, using: &rng)
                    m.payload[i] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng), !m.payload.isEmpty {
                    m.payload = Array(m.payload[0..<Int.random(in: 0..<m.payload.count, using: &rng)])
                }
                let errors = Self.decodeEverything(m)
                rejected += errors.count
                decoded += 8 - errors.count
                // The wire form of the mutated message still splits cleanly.
                #expect(try NetlinkMessage.decodeAll(m.encoded()).count == 1)
            }
        }
        print("fuzz seed \(seed): \(decoded) decodes succeeded, \(rejected) rejected with typed errors")
        #expect(rejected > 0)
    }

    /// Random byte strings as whole receive buffers.
    @Test func randomBuffersNeverCrash() {
        var rng = SplitMix64(seed: 42)
        var outcomes: [NetlinkDecodeError.Code: Int] = [:]
        for _ in 0..<3000 {
            let count = Int.random(in: 0...96, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if count >= 4, Bool.random(using: &rng) {
                // A plausible length: the buffer's own, or one below the 16-byte header.
                bytes[0] = Bool.random(using: &rng) ? UInt8(truncatingIfNeeded: count) : UInt8.random(in: 0..<16, using: &rng)
                bytes[1] = 0; bytes[2] = 0; bytes[3] = 0
            }
            do {
                for m in try NetlinkMessage.decodeAll(bytes) { Self.decodeEverything(m) }
            } catch {
                outcomes[error.code, default: 0] += 1
            }
        }
        print("random buffers: \(outcomes)")
        #expect(outcomes[.truncated, default: 0] > 0)
        #expect(outcomes[.badLength, default: 0] > 0)
    }
}
