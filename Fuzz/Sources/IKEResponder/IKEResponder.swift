// ike-responder: the endpoint (IKESAManager: header routing, RFC 8019 admission and cookies,
// responder sessions for a configured peer) fed arbitrary datagrams, before any IKE SA exists.
// One configured peer, gw1 at 192.0.2.1 (responder sessions with real crypto, seeded randomness
// and the throwaway PKI, as the daemon's factory makes them); this end is gw2, 198.51.100.1.
//
// Input: flags (bit 0: an admission gate that asks every source for a cookie), then up to 8
// datagrams, each: source (1: bits 0-1 pick gw1:500, gw1:4500, 203.0.113.9:500 or gw1 again;
// bit 7 moves time 2 s on first), a 16-bit length and the bytes. Afterwards the timers fire at
// +40 s and +400 s.
import ViaductCrypto
import CryptoCore
import FuzzSupport
import IKEv2
import NetTypes

/// Each session gets its own seed (as each gets fresh randomness in the daemon), so two sessions
/// of one input never draw the same SPI; the same input still makes the same sessions.
final class ResponderFactory: IKESessionFactory {
    private var made: UInt64 = 0

    func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        made += 1
        return IKESession(configuration: configuration(initiator ? .initiator : .responder), cryptoProvider: OpenSSLCryptoProvider(),
                          random: SeededRandomSource(seed: 0x1000 &+ made), authenticator: ThrowawayPKI.shared.authenticator("gw2.example.net"))
    }

    func configuration(_ role: IKERole) -> IKEPeerConfiguration {
        IKEPeerConfiguration(
            role: role, local: EnginePair.gw2, peer: EnginePair.gw1,
            localIdentity: .fqdn("gw2.example.net"), peerIdentity: .fqdn("gw1.example.net"),
            ikeProposals: [IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 128), .aesCBC(keyBits: 256)], integrity: [.hmacSHA256_128],
                                           prf: [.hmacSHA256], groups: [.curve25519, .ecp256])],
            espProposals: [ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 128)])],
            retransmission: .strongSwanDefaults,
            wallClock: IKEWallClock(epochSecondsAtInstantZero: ThrowawayPKI.now))
    }
}

let peer = IKETunnelPeer(tunnel: TunnelID(peer: "gw1"), addresses: [[192, 0, 2, 1]], local: EnginePair.gw2,
                         remote: EnginePair.gw1, initiator: false)
let sources = [EnginePair.gw1, IKEEndpoint(address: [192, 0, 2, 1], port: 4500),
               IKEEndpoint(address: [203, 0, 113, 9], port: 500), EnginePair.gw1]

func run(_ input: [UInt8]) {
    var reader = FuzzReader(input)
    let flags = reader.u8()
    var gate: IKEAdmissionGate?
    if flags & 1 == 1, let prf = try? OpenSSLCryptoProvider().makePRF(.hmacSHA256) {
        gate = IKEAdmissionGate(policy: IKEAdmissionPolicy(cookieThreshold: 0, perSourceCookieThreshold: 0),
                                prf: prf, random: SeededRandomSource(seed: 0xC00C1E))
    }
    let manager = IKESAManager(factory: ResponderFactory(), logLevel: .debug, admission: gate)
    var now = IKEInstant(nanoseconds: 1_000_000_000)
    manager.add(peer: peer)
    manager.start(now: now)
    for _ in 0..<8 where !reader.isAtEnd {
        let source = reader.u8()
        let bytes = reader.record()
        if source & 0x80 != 0 { now = now.adding(seconds: 2) }
        manager.receive(IKEDatagram(bytes: bytes, source: sources[Int(source & 3)], destination: EnginePair.gw2), now: now)
        _ = manager.takeOutgoing()
        _ = manager.takeActions()
    }
    for later in [40.0, 400.0] {
        manager.fireTimers(now: now.adding(seconds: later))
        _ = manager.takeOutgoing()
        _ = manager.takeActions()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    run(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("IKEResponder_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, testOneInput)
}
