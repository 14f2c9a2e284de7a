import ViaductCrypto
import CryptoCore
@testable import IKEv2
import Testing

/// RFC 7296 §1.3.3 / §2.8: Child SA rekeying with CREATE_CHILD_SA, with and without PFS, from
/// either side, applied to a data-plane model that checks make-before-break at every event.
struct EngineRekeyTests {
    /// An established tunnel with the model attached; lifetimes long unless a test shortens them.
    static func tunnel(esp: ESPAlgorithmSet = Proposals.espGCM256, ike: IKEAlgorithmSet = Proposals.gcm256,
                       configure: (inout SimulationSetup) -> Void = { _ in }, seed: UInt64 = 1,
                       impairmentSeed: UInt64 = 0, impairment: SimulationNetwork.Impairment = .none,
                       pki: SimulationPKI? = nil) throws -> (SimulationNetwork, RekeyDataplaneModel) {
        var setup = SimulationSetup(pki: try pki ?? SimulationPKI(), ike: ike, esp: esp)
        configure(&setup)
        let net = try setup.network(seed: seed, impairmentSeed: impairmentSeed, impairment: impairment)
        let model = RekeyDataplaneModel()
        net.onEvent = { model.apply($0, $1) }
        net.run(limit: 60)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        return (net, model)
    }

    /// Both sides hold exactly one SA, the mirror of each other's, with matching keys.
    static func expectConverged(_ net: SimulationNetwork, _ model: RekeyDataplaneModel,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let a = net.initiator.childSAs, b = net.responder.childSAs
        #expect(a.count == 1 && b.count == 1, "initiator has \(a.map(\.inboundSPI)), responder \(b.map(\.inboundSPI))", sourceLocation: sourceLocation)
        if let x = a.first, let y = b.first {
            #expect(x.inboundSPI == y.outboundSPI && x.outboundSPI == y.inboundSPI, sourceLocation: sourceLocation)
            #expect(bytes(x.outboundEncryptionKey) == bytes(y.inboundEncryptionKey), sourceLocation: sourceLocation)
            #expect(bytes(x.inboundEncryptionKey) == bytes(y.outboundEncryptionKey), sourceLocation: sourceLocation)
        }
        #expect(model.initiator.installed.count == 1 && model.responder.installed.count == 1, sourceLocation: sourceLocation)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))", sourceLocation: sourceLocation)
    }

    /// The messages of one kind `from` sent (a message sent as RFC 7383 fragments, as an ML-KEM
    /// KE payload makes it, counts once: by its first fragment).
    static func exchanges(_ net: SimulationNetwork, from: IKEEndpoint, _ type: IKEExchangeType, response: Bool) -> [IKEDatagram] {
        net.wire.filter { d in
            guard d.source.address == from.address, let h = try? IKEHeader(decoding: d.bytes),
                  h.exchangeType == type && h.isResponse == response else { return false }
            return (try? IKEMessage(decoding: d.bytes))?.encryptedFragment.map { $0.fragmentNumber == 1 } ?? true
        }
    }

    @Test("HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr} --> from either side, with and without PFS",
          arguments: [true, false], [Proposals.espGCM256, Proposals.espGCM256PFS, Proposals.espCBC256PFS, Proposals.espGCM256MLKEM])
    func rekey(fromInitiator: Bool, esp: ESPAlgorithmSet) throws {
        let (net, model) = try Self.tunnel(esp: esp)
        let first = try #require(net.initiator.childSA)
        let rekeyer = fromInitiator ? net.initiator : net.responder
        rekeyer.rekeyChildSA(now: net.now)
        net.run(limit: 120)
        Self.expectConverged(net, model)
        let a = try #require(net.initiator.childSA)
        #expect(a.inboundSPI != first.inboundSPI && a.outboundSPI != first.outboundSPI)
        #expect(bytes(a.outboundEncryptionKey) != bytes(first.outboundEncryptionKey))
        #expect(a.replacesInboundSPI != nil)
        // On the wire: one CREATE_CHILD_SA each way, KE payload iff PFS (§1.3.3).
        let side = fromInitiator ? SimulationSetup.gw1 : SimulationSetup.gw2
        let requests = Self.exchanges(net, from: side, .createChildSA, response: false)
        #expect(requests.count == 1)
        // The old SA is gone on both sides, each side saw ready(new) before deleted(old).
        for events in [net.initiatorEvents, net.responderEvents] {
            let readyNew = events.firstIndex { $0.child?.replacesInboundSPI != nil }
            let deletedOld = events.firstIndex { if case .childSADeleted = $0 { true } else { false } }
            #expect(readyNew != nil && deletedOld != nil && readyNew! < deletedOld!)
        }
        // The responder of the rekey installed the new SA without sending on it (§2.8).
        let responderEvents = fromInitiator ? net.responderEvents : net.initiatorEvents
        let installedByResponder = try #require(responderEvents.compactMap(\.child).last)
        #expect(!installedByResponder.activateOutbound)
        #expect(responderEvents.contains { if case .childSAOutboundActivated = $0 { true } else { false } })
    }

    @Test("§2.17 with PFS: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr), recomputed from the exchange's own payloads",
          arguments: [Proposals.espGCM256PFS, Proposals.espCBC256PFS])
    func pfsKeymat(_ esp: ESPAlgorithmSet) throws {
        let (net, model) = try Self.tunnel(esp: esp)
        net.hold = true
        net.initiator.rekeyChildSA(now: net.now)
        guard case .rekeyChild(let ctx)? = net.initiator.up?.activeTask, let ourKE = ctx.keyExchange else {
            Issue.record("no PFS rekey outstanding")
            return
        }
        #expect(ourKE.group == esp.groups.first)
        let request = try #require(net.takeHeld().first)
        net.deliver(request)
        let response = try #require(net.takeHeld().first)
        // Open the responder's answer with the initiator's IKE SA keys: SA, Nr, KEr, TSi, TSr.
        let message = try IKEMessage(decoding: response.bytes)
        let sk = try #require(message.encryptedPayload)
        let inner = try #require(try net.initiator.protection?.open(raw: response.bytes, sk: sk))
        let nonceR = try #require(inner.compactMap(\.nonce).first).data
        let keR = try #require(inner.compactMap(\.ke).first)
        #expect(keR.group == ourKE.group.transformID)
        net.deliver(response)
        net.hold = false
        for d in net.takeHeld() { net.deliver(d) }
        net.run(limit: 120)
        Self.expectConverged(net, model)

        let child = try #require(net.initiator.childSA)
        let prf = try OpenSSLCryptoProvider().makePRF(.hmacSHA384)
        let skD = try #require(net.initiator.keys?.skD)
        let shared = try ourKE.sharedSecret(peerPublicValue: keR.data)
        let expected = try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: skD, sharedSecret: shared, nonceI: ctx.nonce,
                                                            nonceR: nonceR, encryption: child.encryption, integrity: child.integrity)
        #expect(bytes(child.outboundEncryptionKey) == bytes(expected.initiatorToResponder.encryption))
        #expect(bytes(child.inboundEncryptionKey) == bytes(expected.responderToInitiator.encryption))
        #expect(bytes(child.outboundIntegrityKey) == bytes(expected.initiatorToResponder.integrity))
        let withoutPFS = try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: skD, sharedSecret: nil, nonceI: ctx.nonce,
                                                              nonceR: nonceR, encryption: child.encryption, integrity: child.integrity)
        #expect(bytes(child.outboundEncryptionKey) != bytes(withoutPFS.initiatorToResponder.encryption))
    }

    @Test("A responder without PFS refuses a rekey without KE when its proposal demands a group, and the initiator retries with INVALID_KE_PAYLOAD's group")
    func invalidKERetry() throws {
        let (net, model) = try Self.tunnel(esp: Proposals.espGCM256PFS, configure: { s in
            s.initiatorESP = [ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], groups: [.ecp384, .curve25519])]
            s.responderESP = [ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], groups: [.curve25519])]
        })
        net.initiator.rekeyChildSA(now: net.now)
        net.run(limit: 120)
        Self.expectConverged(net, model)
        #expect(Self.exchanges(net, from: SimulationSetup.gw1, .createChildSA, response: false).count == 2)
    }

    @Test("Soft lifetime: both sides rekey on their own timers, at lifetime - margin - jitter, never past the hard lifetime")
    func lifetimes() throws {
        let (net, model) = try Self.tunnel(configure: { s in
            s.childLifetime = 100
            s.childRekeyMargin = 20
            s.childRekeyJitter = 10
        })
        var readyTimes: [Double] = []
        net.onEvent = { [model] fromInitiator, e in
            model.apply(fromInitiator, e)
            if fromInitiator, e.child != nil { readyTimes.append(net.now.seconds(since: IKEInstant(nanoseconds: 0))) }
        }
        net.run(limit: 1_000)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(3))")
        #expect(readyTimes.count >= 10)
        for (a, b) in zip(readyTimes, readyTimes.dropFirst()) {
            #expect(b - a <= 100 - 20 + 1, "rekey after \(b - a)s, margin not honoured")
            #expect(b - a >= 100 - 20 - 10 - 1 || b - a < 1, "rekey after \(b - a)s, earlier than the jitter allows")
        }
        #expect(net.initiator.childSAs.count <= 2 && net.responder.childSAs.count <= 2)
    }

    @Test("Rekeys under 30% loss, duplication and reordering converge without an outbound gap",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func lossyRekeys(_ seed: UInt64) throws {
        let (net, model) = try Self.tunnel(esp: Proposals.espGCM256PFS, configure: { s in
            s.retransmission = IKERetransmissionPolicy(timeout: 1, base: 1.5, tries: 10, jitter: 0.2)
            s.halfOpenTimeout = 600
            s.childLifetime = 120
            s.childRekeyMargin = 30
            s.childRekeyJitter = 20
        }, seed: seed, impairmentSeed: seed * 7919, impairment: .init(loss: 0.3, duplication: 0.2, maxDelay: 0.3))
        net.run(limit: 1_200)
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(model.readyCount.initiator >= 8)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))")
        // Settle: stop the timers' next rekey from being mid-flight when we look.
        #expect(net.initiator.childSAs.count <= 3)
    }

    @Test("10,000 consecutive rekeys of one tunnel: at every event both sides have an outbound SA the peer can decrypt")
    func tenThousandRekeys() throws {
        let (net, model) = try Self.tunnel(esp: Proposals.espGCM128, ike: Proposals.gcm128x25519, configure: { s in
            s.childLifetime = 60
            s.childRekeyMargin = 10
            s.childRekeyJitter = 10
        })
        let start = model.readyCount.initiator
        var limit = 60.0
        while model.readyCount.initiator - start < 10_000 && net.initiator.state == .established {
            limit += 60_000
            net.run(limit: limit, maxSteps: 10_000_000)
        }
        #expect(model.readyCount.initiator - start >= 10_000)
        #expect(model.violations.isEmpty, "\(model.violations.prefix(5))")
        #expect(net.initiator.state == .established && net.responder.state == .established)
        #expect(net.initiator.childSAs.count <= 3 && net.responder.childSAs.count <= 3)
        print("10,000 rekeys: \(model.eventsApplied) data-plane events, \(net.wire.count) datagrams, \(Int(net.now.seconds(since: IKEInstant(nanoseconds: 0))))s simulated")
    }
}
