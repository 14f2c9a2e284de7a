// esp-inbound: the userspace data plane's receive path without its sockets and TUNs: UDP GRO
// split (GRODatagrams), RFC 3948 classification, RFC 4303 §3.4 decapsulation with the replay
// window (ESPInboundSATable), then the TCP coalescing of each batch's decrypted packets
// (TCPCoalescer: trains merged as the inbound worker writes them), with the MSS clamp
// (TCPMSSClamp) applied to each decrypted packet as the worker does.
//
// The two SAs are the strongSwan capture's (Tests/ESPTests/CaptureFixtures.swift: AES-GCM-256,
// SPIs d21ea791 and f80c9d4c, keys from prf+(SK_d, Ni | Nr)), so the captured packets decrypt.
// Datagrams are either raw (the UDP payload as given) or sealed: the input is the ESP plaintext
// (inner packet, padding, Pad Length, Next Header) and the harness encrypts it under SA d21ea791
// with the given sequence number, so the fuzzer reaches the checks after the ICV.
//
// Input: flags (bit 0: ESN; bits 1-2: replay window 32, 64, 2048 or 4096), then up to 16 batches,
// each: segment size (16 bits; the GRO size the "kernel" reports, 0 for none), datagram count
// (1 byte, 1-8), then the datagrams, each: kind (1 byte: bit 0 raw; bits 4-7 the high half of an
// ESN sequence number), the sequence number (32 bits), a 16-bit length and the bytes.
import CryptoCore
import ViaductCrypto
@testable import Dataplane
import ESP
import FuzzSupport
import NetTypes

let keymat: [UInt8] = hexBytes(
    "408834ffc68a831646829a157b1fe84a6ace265049d4434fd686e0abb5e39a2cc95745b282f608f97f8d9ab2"
        + "5b0b9537fdbb87c1ffbd8079f263795eb01cba49a8821cbfb8d4c0f5")
let spiIn = ESPSPI(0xd21e_a791)
let spiOut = ESPSPI(0xf80c_9d4c)
let windows = [32, 64, 2048, 4096]
let clampLimits = MSSClampLimits(ipv4: 1298, ipv6: 1278)

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = s.utf8.makeIterator()
    while let a = chars.next(), let b = chars.next() {
        func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        out.append(v(a) << 4 | v(b))
    }
    return out
}

func cipher(_ key: ArraySlice<UInt8>) -> any AEADCipher {
    do {
        return try OpenSSLCryptoProvider().makeAEAD(.aesGCM16(keyBits: 256), key: SecureBytes(Array(key)))
    } catch {
        fatalError("harness: \(error)")
    }
}

/// SPI | Seq | IV | Enc(plaintext) | ICV under SA d21ea791 (RFC 4303 §2, RFC 4106 §3-§5).
func seal(_ plaintext: [UInt8], sequence: UInt64, esn: Bool, with sealer: any AEADCipher) -> [UInt8] {
    var packet = [UInt8](repeating: 0, count: 16 + plaintext.count + sealer.tagLength)
    let low = UInt32(truncatingIfNeeded: sequence)
    let header = [0xd2, 0x1e, 0xa7, 0x91, UInt8(low >> 24), UInt8(low >> 16 & 0xFF), UInt8(low >> 8 & 0xFF), UInt8(low & 0xFF)]
    packet.replaceSubrange(0..<8, with: header)
    for i in 0..<8 { packet[8 + i] = UInt8(truncatingIfNeeded: sequence >> UInt64(56 - 8 * i)) }
    packet.replaceSubrange(16..<(16 + plaintext.count), with: plaintext)
    let high = UInt32(truncatingIfNeeded: sequence >> 32)
    let aad = esn ? Array(header[0..<4]) + [UInt8(high >> 24), UInt8(high >> 16 & 0xFF), UInt8(high >> 8 & 0xFF), UInt8(high & 0xFF)] + Array(header[4..<8])
        : Array(header)
    let iv = Array(packet[8..<16])
    let ok = packet.withUnsafeMutableBytes { all in
        iv.withUnsafeBytes { ivBuffer in
            aad.withUnsafeBytes { aadBuffer in
                (try? sealer.seal(iv: ivBuffer, aad: aadBuffer, buffer: UnsafeMutableRawBufferPointer(rebasing: all[16...]),
                                  plaintextCount: plaintext.count)) != nil
            }
        }
    }
    if !ok { fatalError("harness: AES-GCM seal failed") }
    return packet
}

func run(_ input: [UInt8]) {
    var reader = FuzzReader(input)
    let flags = reader.u8()
    let esn = flags & 1 == 1
    let table = ESPInboundSATable()
    let sealer = cipher(keymat[0..<36])
    do {
        table.insert(try ESPInboundSA(spi: spiIn, cipher: cipher(keymat[0..<36]), extendedSequenceNumbers: esn,
                                      replayWindowSize: windows[Int(flags >> 1 & 3)]))
        table.insert(try ESPInboundSA(spi: spiOut, cipher: cipher(keymat[36..<72]), extendedSequenceNumbers: esn,
                                      replayWindowSize: windows[Int(flags >> 1 & 3)]))
    } catch {
        fatalError("harness: \(error)")
    }
    for _ in 0..<16 where !reader.isAtEnd {
        let segmentSize = Int(reader.u16())
        var slot: [UInt8] = []
        for _ in 0..<(Int(reader.u8()) % 8 + 1) where !reader.isAtEnd {
            let kind = reader.u8()
            let sequence = UInt64(kind >> 4) << 32 | UInt64(reader.u32())
            let bytes = reader.record()
            slot += kind & 1 == 1 ? bytes : seal(bytes, sequence: sequence, esn: esn, with: sealer)
        }
        receive(&slot, segmentSize: segmentSize == 0 ? nil : segmentSize, table: table)
    }
}

/// One received buffer, as the inbound worker handles a slot: split, classify, decapsulate in
/// place, then write the batch's packets with consecutive TCP segments merged into trains.
func receive(_ slot: inout [UInt8], segmentSize: Int?, table: ESPInboundSATable) {
    let length = slot.count
    slot.withUnsafeMutableBytes { buffer in
        var pending: [UnsafeMutableRawBufferPointer] = []
        for datagram in GRODatagrams(length: length, segmentSize: segmentSize) {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[datagram])
            guard case .esp = ESPInUDPPayload.classify(UnsafeRawBufferPointer(piece)),
                  let result = try? table.decapsulate(piece, packet: 0..<piece.count),
                  case .packet(let range, _) = result else { continue }
            FuzzDriver.invariant(range.lowerBound >= 16 && range.upperBound <= piece.count, "inner packet \(range) outside its datagram")
            let inner = UnsafeMutableRawBufferPointer(rebasing: piece[range])
            // `mss-clamp`, as the inbound worker applies it to every decrypted packet.
            let before = Array(inner)
            switch TCPMSSClamp.clamp(inner, limits: clampLimits) {
            case .clamped(let from):
                let limit = inner[0] >> 4 == 4 ? clampLimits.ipv4 : clampLimits.ipv6
                FuzzDriver.invariant(from > limit, "clamped an MSS of \(from), not above the limit \(limit)")
            case .notSYN, .unchanged, .malformed:
                FuzzDriver.invariant(Array(inner) == before, "a packet the clamp left alone changed")
            }
            pending.append(inner)
        }
        coalesce(pending)
    }
}

/// InboundWorker.writePending's trains, merged into a buffer instead of written to a TUN.
func coalesce(_ pending: [UnsafeMutableRawBufferPointer]) {
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
    defer { output.deallocate() }
    var index = 0
    var carried: TCPCoalescer.Segment?
    while index < pending.count {
        let head = carried ?? TCPCoalescer.Segment(UnsafeRawBufferPointer(pending[index]))
        carried = nil
        var next = index + 1
        guard let head else {
            index += 1
            continue
        }
        var train = TCPCoalescer(first: head)
        var members = [head]
        while next < pending.count, members.count < InboundWorker.maximumTrain,
              let segment = TCPCoalescer.Segment(UnsafeRawBufferPointer(pending[next])) {
            guard train.append(segment) else {
                carried = segment
                break
            }
            members.append(segment)
            next += 1
        }
        if train.count > 1 {
            let written = train.merge(members, into: output)
            FuzzDriver.invariant(written == train.mergedLength, "a train of \(train.count) did not merge")
            FuzzDriver.invariant(train.packetLength <= 65_535 + (head.version == 6 ? 40 : 0), "a merged packet is too long")
            index = next
        } else {
            index += 1
        }
    }
}

/// Seeds beyond the capture: trains of TCP segments (IPv4 and IPv6, with timestamps) sealed as
/// one GRO slot, and a replayed and a reordered batch.
func writeSeeds(to directory: String) {
    func tcp(v6: Bool, sequence: UInt32, payload: Int, push: Bool) -> [UInt8] {
        let ip = v6 ? 40 : 20
        var p = [UInt8](repeating: 0, count: ip + 32 + payload)
        if v6 {
            p[0] = 0x60; p[4] = UInt8((32 + payload) >> 8); p[5] = UInt8((32 + payload) & 0xFF); p[6] = 6; p[7] = 64
            p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8; p[23] = 1
            p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8; p[39] = 2
        } else {
            p[0] = 0x45; p[2] = UInt8(p.count >> 8); p[3] = UInt8(p.count & 0xFF); p[6] = 0x40; p[8] = 64; p[9] = 6
            p[12] = 198; p[13] = 18; p[14] = 1; p[15] = 10; p[16] = 198; p[17] = 18; p[18] = 2; p[19] = 10
        }
        p[ip] = 0xC3; p[ip + 1] = 0x50; p[ip + 2] = 0x14; p[ip + 3] = 0x51
        for i in 0..<4 { p[ip + 4 + i] = UInt8(truncatingIfNeeded: sequence >> UInt32(24 - 8 * i)) }
        p[ip + 11] = 1
        p[ip + 12] = 0x80; p[ip + 13] = push ? 0x18 : 0x10; p[ip + 14] = 0x01; p[ip + 15] = 0xF6
        p[ip + 20] = 1; p[ip + 21] = 1; p[ip + 22] = 8; p[ip + 23] = 10; p[ip + 27] = 7; p[ip + 31] = 9
        for i in 0..<payload { p[ip + 32 + i] = UInt8(truncatingIfNeeded: i) }
        p.withUnsafeMutableBytes { b in
            if !v6 { InternetChecksum.write16(b, 10, ~InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: b[0..<20]))) }
            let pseudo = InternetChecksum.pseudoHeaderSum(ipPacket: UnsafeRawBufferPointer(b), version: v6 ? 6 : 4, protocol: 6, length: b.count - ip)
            InternetChecksum.write16(b, ip + 16, ~InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: b[ip...]), initial: UInt32(pseudo)))
        }
        return p
    }
    func plaintext(_ inner: [UInt8], nextHeader: UInt8) -> [UInt8] {
        let pad = (4 - (inner.count + 2) % 4) % 4
        return inner + (0..<pad).map { UInt8($0 + 1) } + [UInt8(pad), nextHeader]
    }
    var seeds: [(String, [UInt8])] = []
    for v6 in [false, true] {
        var w = FuzzWriter()
        w.u8(4)  // window 2048, no ESN
        let size = 16 + plaintext(tcp(v6: v6, sequence: 0, payload: 200, push: false), nextHeader: 6).count + 16
        w.u16(UInt16(size)); w.u8(3)
        for i in 0..<4 {
            w.u8(0); w.u32(UInt32(i + 1))
            w.record(plaintext(tcp(v6: v6, sequence: UInt32(1000 + 200 * i), payload: 200, push: i == 3), nextHeader: v6 ? 41 : 4))
        }
        seeds.append(("tcp-train-\(v6 ? "ipv6" : "ipv4")", w.bytes))
    }
    var w = FuzzWriter()
    w.u8(0)
    for sequence: UInt32 in [5, 3, 5, 40, 4] {
        w.u16(0); w.u8(0)
        w.u8(0); w.u32(sequence); w.record(plaintext(tcp(v6: false, sequence: sequence, payload: 10, push: true), nextHeader: 4))
    }
    seeds.append(("replay-reorder", w.bytes))
    var esn = FuzzWriter()
    esn.u8(1)
    for (high, low): (UInt8, UInt32) in [(0, 0xFFFF_FFFE), (1, 2), (0, 0xFFFF_FFFF), (1, 1)] {
        esn.u16(0); esn.u8(0)
        esn.u8(high << 4); esn.u32(low); esn.record(plaintext(tcp(v6: true, sequence: low, payload: 10, push: true), nextHeader: 41))
    }
    seeds.append(("esn-wrap", esn.bytes))
    SeedFiles.write(seeds, to: directory)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    run(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("ESPInbound_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput, writeSeeds: { writeSeeds(to: $0) })
}
