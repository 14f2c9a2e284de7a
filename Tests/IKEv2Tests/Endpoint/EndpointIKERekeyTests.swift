import CryptoCore
@testable import IKEv2
import NetTypes
import Testing
import TestSupport

/// The endpoint's side of the life of a tunnel: routing on the SPIs an IKE SA rekey (RFC 7296
/// §2.18) creates before anything was sent with them, INITIAL_CONTACT (§2.4) dropping a
/// restarted peer's stale SAs, operator commands, and the Deletes sent on shutdown.
struct EndpointIKERekeyTests {
    let t0 = IKEInstant(nanoseconds: 1_000_000_000)

    func makeCore(initiator: Bool) -> (EndpointProbe, FakeFactory) {
        let factory = FakeFactory()
        return (EndpointProbe.withPeerB(factory, initiator: initiator), factory)
    }

    func fromB(_ bytes: [UInt8]) -> IKEDatagram {
        IKEDatagram(bytes: bytes, source: IKEEndpoint(address: gwB, port: 4500), destination: IKEEndpoint(address: gwA, port: 4500))
    }

    @Test("§2.18: the peer's first request on the new IKE SA reaches the session although we never sent with that SPI; the old SPI goes with the old SA")
    func newSPIRoutesBeforeUse() throws {
        let (core, factory) = makeCore(initiator: true)
        core.start(now: t0)
        let s = try #require(factory.made.first)
        s.spis = [s.spi]
        // The peer's CREATE_CHILD_SA request (IKE rekey) arrives on the old SA; answering it
        // gives the session its new SPI 0x2000 (the peer initiated the rekey: we are responder).
        s.onReceive = { s, _ in s.spis = [0x2000, s.spi] }
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, exchange: 36, initiator: false, response: false, messageID: 2)), now: t0)
        s.onReceive = nil
        // HDR(new) from the peer, the new SA's original initiator: receiver SPI = responder SPI.
        core.receive(fromB(ikeMessage(spiI: 0xCAFE, spiR: 0x2000, exchange: 37, initiator: true, response: false)), now: t0)
        #expect(s.received.count == 2)
        #expect(core.counters.unknownSPI == 0)
        // The old SA was deleted: the session no longer lists its SPI, and nothing routes there.
        s.spis = [0x2000]
        core.receive(fromB(ikeMessage(spiI: 0xCAFE, spiR: 0x2000, exchange: 37, initiator: true, response: false, messageID: 1)), now: t0)
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, exchange: 37, initiator: false, response: false, messageID: 3)), now: t0)
        #expect(s.received.count == 3)
        #expect(core.counters.unknownSPI == 1)
    }

    @Test("§2.4 INITIAL_CONTACT in a peer's new IKE SA: the stale session's Child SA leaves the data plane before the new one is installed, and the stale SA no longer routes")
    func initialContactDropsStaleSession() throws {
        let (core, factory) = makeCore(initiator: false)
        var seen: [String] {
            core.events.compactMap { e in if case .childSADeleted(let i, _) = e { "deleted \(i.rawValue)" } else { nil } }
        }
        factory.responderScript = { s, d in
            s.transmit.append(IKEDatagram(bytes: ikeMessage(spiI: 0xAAAA, spiR: s.spi, initiator: false, response: true),
                                          source: d.destination, destination: d.source))
            s.events = [.childSAReady(scriptedChildSA(0x5000 + UInt32(s.spi & 0xFF)))]
        }
        core.start(now: t0)
        core.receive(fromB(ikeMessage(spiI: 0xAAAA, spiR: 0, initiator: true, response: false)), now: t0)
        let stale = try #require(factory.made.first)
        stale.nextDeadline = t0.adding(seconds: 30)  // its liveness check, which must never fire
        // The peer restarted: a new IKE SA from it, whose IKE_AUTH carried INITIAL_CONTACT.
        factory.responderScript = { s, d in
            s.transmit.append(IKEDatagram(bytes: ikeMessage(spiI: 0xBBBB, spiR: s.spi, initiator: false, response: true),
                                          source: d.destination, destination: d.source))
            s.events = [.initialContact(peerIdentity: "gw-b.example.net"), .childSAReady(scriptedChildSA(0x6000))]
        }
        core.receive(fromB(ikeMessage(spiI: 0xBBBB, spiR: 0, initiator: true, response: false)), now: t0)
        #expect(core.installed == [0x5000, 0x6000])
        #expect(core.deleted == [0x5000])
        // The stale Child SA leaves the data plane before the new one goes in.
        let order = core.actions.compactMap { a -> String? in
            switch a {
            case .installChildSA(let sa, _): "install \(sa.inboundSPI.rawValue)"
            case .deleteChildSA(let i, _, _): "delete \(i.rawValue)"
            default: nil
            }
        }
        #expect(order == ["install \(0x5000)", "delete \(0x5000)", "install \(0x6000)"])
        #expect(seen == ["deleted \(0x5000)"])
        #expect(core.logged("dropped a stale IKE SA"))
        #expect(core.liveSessionCount == 1)
        core.receive(fromB(ikeMessage(spiI: 0xAAAA, spiR: stale.spi, exchange: 37, initiator: true, response: false, messageID: 2)), now: t0)
        #expect(stale.received.count == 1)
        #expect(core.counters.unknownSPI == 1)
        core.fireTimers(now: t0.adding(seconds: 60))
        #expect(stale.timeouts.isEmpty)
    }

    @Test("Operator commands reach the peer's live sessions; an unknown peer or nothing established is an error in words")
    func operatorCommands() throws {
        let (core, factory) = makeCore(initiator: true)
        core.start(now: t0)
        let s = try #require(factory.made.first)
        #expect(core.perform(.rekeyIKE, peer: "gw-b", now: t0) == nil)
        #expect(core.perform(.deleteChild, peer: "gw-b", now: t0) == nil)
        #expect(s.commands == [.rekeyIKE, .deleteChild])
        let unknown = try #require(core.perform(.rekeyChild, peer: "gw-z", now: t0))
        #expect(unknown.contains("no tunnel to 'gw-z'") && unknown.contains("gw-b"))
        s.acceptsCommands = false
        let idle = try #require(core.perform(.rekeyChild, peer: "gw-b", now: t0))
        #expect(idle.contains("no established Child SA"))
    }

    @Test("Shutdown deletes every IKE SA, and a deleted initiator SA is not opened again")
    func closeAllOnShutdown() throws {
        let (core, factory) = makeCore(initiator: true)
        core.start(now: t0)
        let s = try #require(factory.made.first)
        s.events = [.childSAReady(scriptedChildSA(0x7000))]
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, initiator: false, response: true)), now: t0)
        s.nextDeadline = nil
        #expect(core.closeAll(now: t0) == 1)
        #expect(s.closes == [t0])
        // HDR, SK {D(IKE)} answered: the session reports the deletion.
        s.events = [.childSADeleted(inboundSPI: 0x7000, outboundSPI: 0x7001), .ikeSADeleted]
        core.receive(fromB(ikeMessage(spiI: s.spi, spiR: 0xBEEF, exchange: 37, initiator: false, response: true, messageID: 2)), now: t0)
        #expect(core.deleted == [0x7000])
        #expect(core.liveSessionCount == 0)
        core.fireTimers(now: t0.adding(seconds: 60))
        #expect(factory.made.count == 1)
        #expect(core.nextDeadline == nil)
    }

    // MARK: The replaced IKE SA in the table (§2.18)

    /// The side SAs a probe's table holds (an IKE SA rekey's replaced SA), oldest first.
    static func retired(_ core: EndpointProbe) -> [IKESideSA] {
        core.endpoint.table.sessions.sorted { $0.key < $1.key }.compactMap { $0.value.session as? IKESideSA }
    }

    /// A tunnel between two engine endpoints whose IKE SA A has just rekeyed, with A's Delete of
    /// the old SA dropped on the wire: both old SAs are still in their tables.
    static func rekeyedWithOldDeleteLost() throws -> (EndpointPair, old: [IKESPI]) {
        let pair = try EndpointPair(reauthenticating: true)
        pair.start()
        let old = try #require(pair.coreA.endpoint.ikeSAs.first?.spis)
        pair.drop = { d in
            guard let h = try? IKEHeader(decoding: d.bytes) else { return false }
            return h.initiatorSPI == old[0] && h.exchangeType == .informational
        }
        #expect(pair.coreA.perform(.rekeyIKE, peer: "gw-b", now: pair.now) == nil)
        pair.exchange()
        return (pair, old)
    }

    @Test("§2.18 the IKE SA a rekey replaced is an entry of its own in each endpoint's table, routed to by its old SPIs, until its Delete is done; the tunnel's view shows only the new SA")
    func replacedSAIsATableEntry() throws {
        let (pair, old) = try Self.rekeyedWithOldDeleteLost()
        for core in [pair.coreA, pair.coreB] {
            #expect(core.endpoint.retiredIKESACount == 1)
            #expect(Self.retired(core).map { [$0.keying.initiatorSPI, $0.keying.responderSPI] } == [old])
            let view = core.endpoint.ikeSAs
            #expect(view.count == 1 && view[0].spis != old && view[0].children == 1, "\(view)")
            #expect(core.liveSessionCount == 1)
        }
        // A retransmits its Delete on the old SA's own window; B's old SA answers it.
        pair.drop = { _ in false }
        pair.run(until: pair.now.seconds(since: IKEInstant(nanoseconds: 0)) + 30)
        #expect(pair.coreA.endpoint.retiredIKESACount == 0)
        #expect(Self.retired(pair.coreB).map(\.closed) == [true])
        #expect(pair.coreA.counters.unknownSPI == 0 && pair.coreB.counters.unknownSPI == 0)
        // B keeps the deleted SA only for the peer's retransmissions, then forgets it.
        pair.run(until: pair.now.seconds(since: IKEInstant(nanoseconds: 0)) + 200)
        #expect(pair.coreB.endpoint.retiredIKESACount == 0)
        #expect(pair.coreA.endpoint.ikeSAs.count == 1 && pair.coreB.endpoint.ikeSAs.count == 1)
        #expect(pair.violations.isEmpty, "\(pair.violations.prefix(3))")
    }

    @Test("§2.18 a Delete of a Child SA sent on the replaced IKE SA reaches the endpoint's entry for it, removes the Child SA from the current IKE SA and is answered with our SPI")
    func childDeleteThroughReplacedSAEntry() throws {
        let (pair, _) = try Self.rekeyedWithOldDeleteLost()
        let oldOfA = try #require(Self.retired(pair.coreA).first)
        let oldOfB = try #require(Self.retired(pair.coreB).first)
        let childB = try #require(pair.events.compactMap { $0.side == "B" ? $0.event.child : nil }.last)
        // HDR(old), SK {D(ESP, A's inbound SPI)} from A, on the old SA's next message ID.
        var flags: IKEHeader.Flags = []
        if oldOfA.keying.originalInitiator { flags.insert(.initiator) }
        let header = IKEHeader(initiatorSPI: oldOfA.keying.initiatorSPI, responderSPI: oldOfA.keying.responderSPI,
                               exchangeType: .informational, flags: flags, messageID: oldOfB.window.expectedPeerRequestID)
        var random = SeededRandomSource(seed: 7)
        let bytes = try oldOfA.keying.protection.seal(header: header, payloads: [.delete(.childSAs([childB.outboundSPI]))],
                                                      random: &random)
        _ = pair.coreB.takeOutgoing()
        pair.coreB.receive(IKEDatagram(bytes: bytes, source: EndpointPair.a, destination: EndpointPair.b), now: pair.now)
        #expect(pair.coreB.deleted.contains(childB.inboundSPI))
        #expect(pair.coreB.endpoint.ikeSAs.first?.children == 0)
        let answer = try #require(pair.coreB.takeOutgoing().first { (try? IKEHeader(decoding: $0.bytes))?.isResponse == true })
        let sk = try #require(try IKEMessage(decoding: answer.bytes).encryptedPayload)
        let inner = try oldOfA.keying.protection.open(raw: answer.bytes, sk: sk)
        #expect(inner.contains { if case .delete(let d) = $0 { d.espSPIs == [childB.inboundSPI] } else { false } })
    }
}
