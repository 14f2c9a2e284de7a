import ViaductCrypto
import CryptoCore
@testable import IKEv2
import NetTypes
import Testing

/// RFC 7296 §2.23 and RFC 3948 §4 with a NAT in front of the initiator: gw1 (192.0.2.1, inside)
/// reaches gw2 (198.51.100.1) through a NAPT whose public side is 203.0.113.5.
///
///   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)  -->
///                              <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)
///   (both float to 4500; gw1 knows it is behind the NAT and sends 0xFF keepalives)
@Suite("RFC 7296 §2.23 / RFC 3948 NAT traversal")
struct EngineNATTraversalTests {
    /// The NAPT and the two sessions, moved by hand with a fake clock.
    final class NATPath {
        let inside: IKESession
        let outside: IKESession
        let publicAddress: [UInt8] = [203, 0, 113, 5]
        /// Inside port -> public port; change it to simulate the NAT losing its mapping.
        var portMap: [UInt16: UInt16] = [500: 40500, 4500: 44500]
        private(set) var now = IKEInstant(nanoseconds: 0)
        private(set) var keepalives: [IKEDatagram] = []
        private(set) var outsideKeepalives: [IKEDatagram] = []
        private(set) var insideEvents: [IKEEvent] = []
        private(set) var outsideEvents: [IKEEvent] = []
        /// Datagrams the outside session sent, after translation back (for destination checks).
        private(set) var outsideSent: [IKEDatagram] = []

        init(_ setup: SimulationSetup, inside configure: (inout IKEPeerConfiguration) -> Void = { _ in }) throws {
            var c = setup.configuration(.initiator)
            configure(&c)
            inside = IKESession(configuration: c, cryptoProvider: OpenSSLCryptoProvider(),
                                random: SeededRandomSource(seed: 7), authenticator: try setup.pki.authenticator(try setup.pki.gateway("gw1.example.net")))
            outside = IKESession(configuration: setup.configuration(.responder), cryptoProvider: OpenSSLCryptoProvider(),
                                 random: SeededRandomSource(seed: 8), authenticator: try setup.pki.authenticator(try setup.pki.gateway("gw2.example.net")))
        }

        /// Outbound through the NAT: the source becomes the public address and mapped port.
        func translateOut(_ d: IKEDatagram) -> IKEDatagram {
            var t = d
            t.source = IKEEndpoint(address: publicAddress, port: portMap[d.source.port] ?? d.source.port)
            return t
        }

        /// Moves datagrams both ways until nothing is left.
        func pump() {
            var moved = true
            while moved {
                moved = false
                while let d = inside.pollTransmit() {
                    moved = true
                    if d.isNATKeepalive { keepalives.append(d); continue }
                    outside.receive(translateOut(d), now: now)
                }
                while let d = outside.pollTransmit() {
                    moved = true
                    if d.isNATKeepalive { outsideKeepalives.append(d); continue }
                    outsideSent.append(d)
                    // Inbound through the NAT: only a current mapping reaches the inside.
                    guard d.destination.address == publicAddress,
                          let insidePort = portMap.first(where: { $0.value == d.destination.port })?.key else { continue }
                    var t = d
                    t.destination = IKEEndpoint(address: inside.local.address, port: insidePort)
                    inside.receive(t, now: now)
                }
                while let e = inside.pollEvent() { insideEvents.append(e) }
                while let e = outside.pollEvent() { outsideEvents.append(e) }
            }
        }

        func establish() {
            inside.start(now: now)
            pump()
        }

        /// Advances the clock to `t`, firing every deadline on the way.
        func advance(to t: Double) {
            let end = IKEInstant.seconds(t)
            while true {
                let next = [inside.nextDeadline, outside.nextDeadline].compactMap { $0 }.min()
                guard let next, next <= end else { break }
                now = max(now, next)
                for s in [inside, outside] where (s.nextDeadline.map { $0 <= now } ?? false) { s.timeout(now: now) }
                pump()
            }
            now = max(now, end)
        }
    }

    func setup() throws -> SimulationSetup {
        var s = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        s.childRekeyJitter = 0
        return s
    }

    @Test("NAT detected on both sides, the right side behind it; IKE and ESP float to 4500")
    func detection() throws {
        let path = try NATPath(try setup())
        path.establish()
        #expect(path.inside.state == .established && path.outside.state == .established)
        #expect(path.inside.localBehindNAT && !path.inside.peerBehindNAT)
        #expect(path.outside.peerBehindNAT && !path.outside.localBehindNAT)
        #expect(path.inside.local.port == 4500 && path.inside.peer.port == 4500)
        #expect(path.outside.peer == IKEEndpoint(address: [203, 0, 113, 5], port: 44500))
        #expect(path.inside.childSA?.udpEncapsulation == true && path.outside.childSA?.udpEncapsulation == true)
        #expect(path.outside.childSA?.peer == IKEEndpoint(address: [203, 0, 113, 5], port: 44500))
    }

    @Test("Only the side behind the NAT sends keepalives: one 0xFF to the peer's 4500 every interval")
    func keepalives() throws {
        let path = try NATPath(try setup())
        path.establish()
        path.advance(to: 100)
        // 20 s default period: at 20, 40, 60, 80, 100 s (the first 20 s after IKE_SA_INIT).
        #expect(path.keepalives.count == 5)
        #expect(path.keepalives.allSatisfy { $0.bytes == [0xFF] && $0.source.port == 4500 && $0.destination == path.inside.peer })
        #expect(path.outsideKeepalives.isEmpty)
        #expect(path.inside.natKeepalivesSent == 5)
    }

    @Test("Keepalive interval from the configuration; 0 turns them off; none without a NAT")
    func keepaliveConfiguration() throws {
        let s = try setup()
        for (interval, expected) in [(7.0, 4), (0.0, 0)] {
            let path = try NATPath(s) { $0.natKeepaliveSeconds = interval }
            path.establish()
            path.advance(to: 30)
            #expect(path.keepalives.count == expected)
        }
        // No NAT: the plain simulation network never carries a keepalive.
        let net = try s.network()
        net.run(limit: 100)
        #expect(net.initiator.state == .established)
        #expect(!net.wire.contains { $0.isNATKeepalive })
    }

    @Test("The NAT mapping changes: an authenticated request from the new port moves the responder's peer, Child SAs and replies")
    func mappingChange() throws {
        let path = try NATPath(try setup())
        path.establish()
        let inbound = try #require(path.outside.childSA?.inboundSPI)
        path.portMap[4500] = 47000  // the NAT rebooted: a new public port
        path.inside.rekeyChildSA(now: path.now)
        path.pump()
        let moved = IKEEndpoint(address: [203, 0, 113, 5], port: 47000)
        #expect(path.outside.peer == moved)
        let change = path.outsideEvents.compactMap { e -> (IKEEndpoint, IKEEndpoint, [ESPSPI])? in
            if case .peerEndpointChanged(let p, let n, let spis) = e { return (p, n, spis) }
            return nil
        }
        #expect(change.count == 1)
        #expect(change.first?.0 == IKEEndpoint(address: [203, 0, 113, 5], port: 44500))
        #expect(change.first?.1 == moved)
        #expect(change.first?.2.contains(inbound) == true)
        // The rekey completed through the new mapping, and the new Child SA uses it.
        #expect(path.outside.childSAs.allSatisfy { $0.peer == moved })
        #expect(path.inside.childSAs.count >= 1)
        // The responder's own next request goes to the new port as well.
        path.outside.rekeyChildSA(now: path.now)
        path.pump()
        #expect(path.outsideSent.last?.destination == moved)
        // The side behind the NAT never follows addresses (it is the one that moved).
        #expect(!path.insideEvents.contains { if case .peerEndpointChanged = $0 { true } else { false } })
    }

    @Test("A forged message from a new port does not move the peer")
    func forgedDoesNotMove() throws {
        let path = try NATPath(try setup())
        path.establish()
        let before = path.outside.peer
        path.inside.rekeyChildSA(now: path.now)
        let request = try #require(path.inside.pollTransmit())
        var forged = path.translateOut(request)
        forged.source.port = 50000
        forged.bytes[forged.bytes.count - 1] ^= 0xFF
        path.outside.receive(forged, now: path.now)
        #expect(path.outside.peer == before)
        #expect(path.outside.pollTransmit() == nil)
        #expect(!path.outsideEvents.contains { if case .peerEndpointChanged = $0 { true } else { false } })
    }
}

