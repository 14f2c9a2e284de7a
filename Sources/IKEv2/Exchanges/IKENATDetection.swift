// RFC 7296 §2.23: NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP.
//   hash = SHA1(SPIi | SPIr | IP address | port)
// with the SPIs of the header of the message that carries the notify (SPIr zero in the
// IKE_SA_INIT request).
import NetTypes

/// Computes and checks NAT-D hashes. A mismatch of the peer's SOURCE hash means the peer is
/// behind a NAT; of its DESTINATION hash, that we are. Either way both sides float to port 4500
/// and encapsulate ESP in UDP. strongSwan's kernel-libipsec peers always send a fake source
/// hash, so against them this reports a NAT, which is handled like a real one.
enum IKENATDetection {
    static func hash(spiI: IKESPI, spiR: IKESPI, endpoint: IKEEndpoint) -> [UInt8] {
        var input = spiI.bytes + spiR.bytes + endpoint.address
        input.append(UInt8(truncatingIfNeeded: endpoint.port >> 8))
        input.append(UInt8(truncatingIfNeeded: endpoint.port))
        return SHA1.digest(input)
    }

    /// Our two notifies. With `fakeSource` (forced encapsulation) the source hash is computed
    /// over an address no one has, so the peer detects a NAT as well.
    static func notifies(spiI: IKESPI, spiR: IKESPI, local: IKEEndpoint, peer: IKEEndpoint,
                         fakeSource: Bool) -> [IKEPayload] {
        let source = fakeSource ? IKEEndpoint(address: [UInt8](repeating: 0, count: local.address.count), port: 0) : local
        return [
            .notify(IKENotify(type: .natDetectionSourceIP, data: hash(spiI: spiI, spiR: spiR, endpoint: source))),
            .notify(IKENotify(type: .natDetectionDestinationIP, data: hash(spiI: spiI, spiR: spiR, endpoint: peer))),
        ]
    }

    /// True when the peer's notifies show a NAT between us (or the peer fakes one); false when
    /// they match, or when the peer sent none (it does not support NAT-T, RFC 7296 §2.23).
    static func natDetected(in notifies: [IKENotify], spiI: IKESPI, spiR: IKESPI, datagram: IKEDatagram) -> Bool {
        let s = situation(in: notifies, spiI: spiI, spiR: spiR, datagram: datagram)
        return s.peerBehindNAT || s.localBehindNAT
    }

    /// Which side the NAT is on: the peer's (its source hash differs, or it fakes one) or ours
    /// (its hash of our address differs from ours: RFC 3948 §4 keepalives are our job then).
    static func situation(in notifies: [IKENotify], spiI: IKESPI, spiR: IKESPI,
                          datagram: IKEDatagram) -> (peerBehindNAT: Bool, localBehindNAT: Bool) {
        let sources = notifies.filter { $0.type == .natDetectionSourceIP }.map(\.data)
        let destinations = notifies.filter { $0.type == .natDetectionDestinationIP }.map(\.data)
        guard !sources.isEmpty || !destinations.isEmpty else { return (false, false) }
        let expectedSource = hash(spiI: spiI, spiR: spiR, endpoint: datagram.source)
        let expectedDestination = hash(spiI: spiI, spiR: spiR, endpoint: datagram.destination)
        let peerBehindNAT = !sources.isEmpty && !sources.contains(expectedSource)
        let weBehindNAT = !destinations.isEmpty && !destinations.contains(expectedDestination)
        return (peerBehindNAT, weBehindNAT)
    }
}

/// FIPS 180-4 SHA-1, only for NAT-D hashes (not a security function there: RFC 7296 §2.23
/// uses it to compare addresses). In the pure core so NAT detection needs no crypto provider.
enum SHA1 {
    static func digest(_ message: [UInt8]) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + 4 * i
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = h
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let t = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = t
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }
        return [h.0, h.1, h.2, h.3, h.4].flatMap { IKEWire.bytes($0) }
    }
}
