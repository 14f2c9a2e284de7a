// ike-fragments: RFC 7383 §2.6 reassembly, behind the integrity check. After IKE_SA_INIT (both
// sides announced IKEV2_FRAGMENTATION_SUPPORTED), a set of SKF fragments whose numbers, totals,
// first payload types, message IDs and pieces of plaintext the fuzzer chose, each sealed with the
// IKE SA's keys, goes to the responder (as the IKE_AUTH request) or to the initiator (as the
// IKE_AUTH response).
//
// Input: flags (bit 0: to the initiator), then up to 40 fragments, each: number (1), total (1),
// first payload type (1), message ID offset (1: 0 is the expected one, else a few either side),
// a piece (16-bit length, bytes); a number of 0xFF moves time 70 s on instead (the reassembly
// timeout) and fires the timers.
import FuzzSupport
import IKEv2

/// IKE_SA_INIT done once per process (it was most of an input's time); every input runs on a
/// copy (`EnginePair.copy`), so it starts from the same state whatever came before.
@MainActor let afterSAInit: EnginePair = {
    let pair = EnginePair.afterSAInit()
    pair.checkCopies()
    return pair
}()

@MainActor
func run(_ input: [UInt8]) {
    var reader = FuzzReader(input)
    let toInitiator = reader.u8() & 1 == 1
    let pair = afterSAInit.copy()
    let receiver = toInitiator ? pair.initiator : pair.responder
    let sender = toInitiator ? pair.responder : pair.initiator
    for _ in 0..<40 where !reader.isAtEnd {
        let number = reader.u8()
        let total = reader.u8()
        let first = reader.u8()
        let offset = Int8(bitPattern: reader.u8()) % 4
        let piece = reader.record()
        if number == 0xFF {
            pair.advance(seconds: 70)
            continue
        }
        let expected = toInitiator ? (pair.outstanding(of: receiver)?.messageID ?? 1) : pair.expectedRequestID(of: receiver)
        let id = UInt32(truncatingIfNeeded: Int64(expected) + Int64(offset))
        guard let datagram = pair.sealedFragment(from: sender, .ikeAuth, messageID: id, response: toInitiator, firstPayload: first,
                                                 number: UInt16(number), total: UInt16(total), plaintext: piece) else { continue }
        receiver.receive(datagram, now: pair.now)
        _ = pair.take(from: pair.initiator)
        _ = pair.take(from: pair.responder)
        pair.drainEvents()
    }
}

/// Seeds: the engines' own IKE_AUTH request and response plaintexts cut into fragments (in
/// order, reversed, with a duplicate), as this target's input.
func writeSeeds(to directory: String) {
    let pair = EnginePair()
    pair.initiator.start(now: pair.now)
    pair.deliver(from: pair.initiator, to: pair.responder)
    pair.deliver(from: pair.responder, to: pair.initiator)
    let request = pair.take(from: pair.initiator)
    guard let r = request.first, let requestPlain = pair.opened(r, by: pair.responder) else { return }
    for d in request { pair.responder.receive(d, now: pair.now) }
    guard let s = pair.take(from: pair.responder).first, let responsePlain = pair.opened(s, by: pair.initiator) else { return }
    var seeds: [(String, [UInt8])] = []
    for (name, flags, plain) in [("request", UInt8(0), requestPlain), ("response", UInt8(1), responsePlain)] {
        for pieces in [2, 3, 5] {
            let size = (plain.plaintext.count + pieces - 1) / pieces
            let chunks = stride(from: 0, to: plain.plaintext.count, by: size).map { Array(plain.plaintext[$0..<min($0 + size, plain.plaintext.count)]) }
            for (order, indices) in [("in-order", Array(chunks.indices)), ("reversed", Array(chunks.indices.reversed())),
                                     ("duplicate", [0] + Array(chunks.indices))] {
                var w = FuzzWriter()
                w.u8(flags)
                for i in indices {
                    w.u8(UInt8(i + 1)); w.u8(UInt8(chunks.count)); w.u8(i == 0 ? plain.firstPayload : 0); w.u8(0)
                    w.record(chunks[i])
                }
                seeds.append(("engine-ike-auth-\(name)-\(pieces)-\(order)", w.bytes))
            }
        }
    }
    SeedFiles.write(seeds, to: directory)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    MainActor.assumeIsolated { run(input) }
    return 0
}

@_cdecl("IKEFragments_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput, writeSeeds: { writeSeeds(to: $0) })
}
