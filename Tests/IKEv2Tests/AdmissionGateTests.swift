import ViaductCrypto
import CryptoCore
import IKEv2
import NetTypes
import Testing

/// RFC 7296 §2.6 cookies and RFC 8019 limits in the responder's admission gate, driven by a
/// fake clock (IKEInstant values) and seeded randomness.
@Suite struct AdmissionGateTests {
    static let responder = IKEEndpoint(address: [198, 51, 100, 1], port: 500)
    static let a = IKEEndpoint(address: [192, 0, 2, 1], port: 500)
    static let b = IKEEndpoint(address: [192, 0, 2, 2], port: 500)

    static func gate(_ policy: IKEAdmissionPolicy = IKEAdmissionPolicy(), seed: UInt64 = 7) throws -> IKEAdmissionGate {
        IKEAdmissionGate(policy: policy, prf: try OpenSSLCryptoProvider().makePRF(.hmacSHA256),
                         random: SeededRandomSource(seed: seed))
    }

    /// HDR(SPIi,0), [N(COOKIE),] SAi1, KEi, Ni
    static func request(from source: IKEEndpoint = a, spi: UInt64 = 0x1111, nonce: [UInt8] = Array(repeating: 0xAB, count: 32),
                        cookie: [UInt8]? = nil) throws -> IKEDatagram {
        var payloads: [IKEPayload] = []
        if let cookie { payloads.append(.notify(IKENotify(type: .cookie, data: cookie))) }
        let set = IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], prf: [.hmacSHA384], groups: [.ecp384])
        payloads.append(.securityAssociation(IKESecurityAssociation(proposals: [set.initialProposal(number: 1)])))
        payloads.append(.keyExchange(IKEKeyExchange(group: 20, data: Array(repeating: 4, count: 96))))
        payloads.append(.nonce(IKENonce(data: nonce)))
        let header = IKEHeader(initiatorSPI: IKESPI(spi), exchangeType: .ikeSAInit, flags: [.initiator], messageID: 0)
        return IKEDatagram(bytes: try IKEMessage(header: header, payloads: payloads).encoded(), source: source,
                           destination: responder)
    }

    /// The cookie in a gate's `.respond`, after checking the answer's shape (§2.6).
    static func cookie(in decision: IKEAdmissionDecision, for request: IKEDatagram) throws -> [UInt8] {
        guard case .respond(let answer) = decision else {
            Issue.record("expected a COOKIE answer, got \(decision)")
            return []
        }
        let m = try IKEMessage(decoding: answer.bytes)
        let sent = try IKEMessage(decoding: request.bytes)
        #expect(m.header.flags.contains(.response) && !m.header.flags.contains(.initiator))
        #expect(m.header.initiatorSPI == sent.header.initiatorSPI && m.header.responderSPI.isZero)
        #expect(m.header.exchangeType == .ikeSAInit && m.header.messageID == 0)
        #expect(answer.destination == request.source && answer.source == request.destination)
        #expect(m.payloads.count == 1)
        let c = try #require(m.notifies.first { $0.type == .cookie }?.data)
        #expect(c.count == 33)  // version octet + HMAC-SHA-256
        return c
    }

    static func at(_ seconds: Double) -> IKEInstant { .seconds(seconds) }

    static func isAdmit(_ d: IKEAdmissionDecision) -> Bool {
        if case .admit = d { return true }
        return false
    }

    static func isCookie(_ d: IKEAdmissionDecision) -> Bool {
        if case .respond = d { return true }
        return false
    }

    @Test func quietResponderAdmitsWithoutCookie() throws {
        var g = try Self.gate()
        let d = g.admit(try Self.request(), sessions: 0, now: Self.at(1))
        guard case .admit(let ticket) = d else {
            Issue.record("expected admission, got \(d)")
            return
        }
        #expect(ticket.source == IKEAdmissionSource(address: Self.a.address))
        #expect(g.counters.admitted == 1 && g.halfOpen == 1 && g.counters.cookiesSent == 0)
    }

    @Test func aboveThresholdDemandsCookieThenAdmitsItsReturn() throws {
        var g = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 2))
        for spi in [UInt64(1), 2] { #expect(Self.isAdmit(g.admit(try Self.request(spi: spi), sessions: 0, now: Self.at(1)))) }
        let bare = try Self.request(from: Self.b, spi: 3)
        let c = try Self.cookie(in: g.admit(bare, sessions: 2, now: Self.at(1)), for: bare)
        #expect(g.halfOpen == 2 && g.counters.cookiesSent == 1)
        let back = try Self.request(from: Self.b, spi: 3, cookie: c)
        #expect(Self.isAdmit(g.admit(back, sessions: 2, now: Self.at(1.2))))
        #expect(g.counters.cookiesAccepted == 1 && g.halfOpen == 3 && g.counters.halfOpenPeak == 3)
    }

    @Test func cookieIsBoundToNonceAddressAndSPI() throws {
        var g = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0))
        let bare = try Self.request(spi: 9)
        let c = try Self.cookie(in: g.admit(bare, sessions: 0, now: Self.at(1)), for: bare)
        var tampered = c
        tampered[5] ^= 1
        let wrong = [
            try Self.request(spi: 9, nonce: Array(repeating: 0xCD, count: 32), cookie: c),
            try Self.request(from: Self.b, spi: 9, cookie: c),
            try Self.request(spi: 10, cookie: c),
            try Self.request(spi: 9, cookie: tampered),
            try Self.request(spi: 9, cookie: Array(c.prefix(10))),
        ]
        for w in wrong {
            // A wrong cookie is answered with a fresh one, never admitted.
            #expect(Self.isCookie(g.admit(w, sessions: 0, now: Self.at(1.1))))
        }
        #expect(g.counters.cookiesRejected == UInt64(wrong.count) && g.counters.admitted == 0)
        #expect(Self.isAdmit(g.admit(try Self.request(spi: 9, cookie: c), sessions: 0, now: Self.at(1.1))))
    }

    @Test func previousSecretAcceptedOnlyDuringGrace() throws {
        let policy = IKEAdmissionPolicy(cookieThreshold: 0, cookieSecretLifetimeSeconds: 60, cookieGraceSeconds: 10)
        var g = try Self.gate(policy)
        let bare = try Self.request(spi: 5)
        let c = try Self.cookie(in: g.admit(bare, sessions: 0, now: Self.at(55)), for: bare)  // epoch 0
        let back = try Self.request(spi: 5, cookie: c)
        // Epoch 1 began at 60 s: the epoch-0 secret is previous, accepted until 70 s.
        var inGrace = g
        #expect(Self.isAdmit(inGrace.admit(back, sessions: 0, now: Self.at(69))))
        var afterGrace = g
        #expect(Self.isCookie(afterGrace.admit(back, sessions: 0, now: Self.at(71))))
        #expect(afterGrace.counters.cookiesRejected == 1)
        // Two rotations later the secret is gone, even inside the second epoch's grace window.
        var twoLater = g
        #expect(Self.isCookie(twoLater.admit(back, sessions: 0, now: Self.at(121))))
        // A fresh cookie after rotation carries the new version and works.
        let fresh = try Self.cookie(in: g.admit(bare, sessions: 0, now: Self.at(71)), for: bare)
        #expect(fresh.first != c.first)
        #expect(Self.isAdmit(g.admit(try Self.request(spi: 5, cookie: fresh), sessions: 0, now: Self.at(72))))
    }

    @Test func secretsComeFromTheInjectedRandomSource() throws {
        var g1 = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0), seed: 1)
        var g1again = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0), seed: 1)
        var g2 = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0), seed: 2)
        let r = try Self.request()
        let c1 = try Self.cookie(in: g1.admit(r, sessions: 0, now: Self.at(1)), for: r)
        #expect(c1 == (try Self.cookie(in: g1again.admit(r, sessions: 0, now: Self.at(1)), for: r)))
        #expect(c1 != (try Self.cookie(in: g2.admit(r, sessions: 0, now: Self.at(1)), for: r)))
        // Another gate's cookie is not ours.
        #expect(Self.isCookie(g2.admit(try Self.request(cookie: c1), sessions: 0, now: Self.at(1))))
    }

    @Test func perSourceThresholdOnlyAffectsThatSource() throws {
        var g = try Self.gate(IKEAdmissionPolicy(perSourceCookieThreshold: 2, unverifiedRate: IKERate(perSecond: 100, burst: 100)))
        for spi in [UInt64(1), 2] { #expect(Self.isAdmit(g.admit(try Self.request(spi: spi), sessions: 0, now: Self.at(1)))) }
        #expect(Self.isCookie(g.admit(try Self.request(spi: 3), sessions: 0, now: Self.at(1))))
        #expect(Self.isAdmit(g.admit(try Self.request(from: Self.b, spi: 4), sessions: 0, now: Self.at(1))))
        #expect(g.halfOpen(from: Self.a.address) == 2 && g.halfOpen(from: Self.b.address) == 1)
    }

    @Test func unverifiedRateTurnsIntoCookiesAndRefills() throws {
        var g = try Self.gate(IKEAdmissionPolicy(perSourceCookieThreshold: 100, maxHalfOpenPerSource: 200,
                                                 unverifiedRate: IKERate(perSecond: 2, burst: 3)))
        let decisions = try (1...5).map { g.admit(try Self.request(spi: UInt64($0)), sessions: 0, now: Self.at(10)) }
        #expect(decisions.map(Self.isAdmit) == [true, true, true, false, false])
        #expect(decisions.suffix(2).allSatisfy(Self.isCookie))
        // Half a second later one token (2/s) is back.
        #expect(Self.isAdmit(g.admit(try Self.request(spi: 6), sessions: 0, now: Self.at(10.5))))
        #expect(Self.isCookie(g.admit(try Self.request(spi: 7), sessions: 0, now: Self.at(10.5))))
        #expect(g.counters.droppedTotal == 0)
    }

    @Test func verifiedRateDrops() throws {
        var g = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0, maxHalfOpenPerSource: 100,
                                                 verifiedRate: IKERate(perSecond: 1, burst: 2)))
        var results: [IKEAdmissionDecision] = []
        for spi in UInt64(1)...3 {
            let bare = try Self.request(spi: spi)
            let c = try Self.cookie(in: g.admit(bare, sessions: 0, now: Self.at(1)), for: bare)
            results.append(g.admit(try Self.request(spi: spi, cookie: c), sessions: 0, now: Self.at(1)))
        }
        #expect(results.map(Self.isAdmit) == [true, true, false])
        #expect(results.last == .drop(.rateLimited) && g.counters.dropped[.rateLimited] == 1)
    }

    @Test func hardLimitsHoldEvenWithValidCookies() throws {
        let policy = IKEAdmissionPolicy(cookieThreshold: 0, perSourceCookieThreshold: 0, maxHalfOpen: 3,
                                        maxHalfOpenPerSource: 2, maxSessions: 10,
                                        verifiedRate: IKERate(perSecond: 100, burst: 100))
        var g = try Self.gate(policy)
        func withCookie(_ source: IKEEndpoint, _ spi: UInt64, sessions: Int = 0) throws -> IKEAdmissionDecision {
            let bare = try Self.request(from: source, spi: spi)
            let c = try Self.cookie(in: g.admit(bare, sessions: 0, now: Self.at(1)), for: bare)
            return g.admit(try Self.request(from: source, spi: spi, cookie: c), sessions: sessions, now: Self.at(1))
        }
        var tickets: [IKEAdmissionTicket] = []
        for spi in UInt64(1)...2 { if case .admit(let t) = try withCookie(Self.a, spi) { tickets.append(t) } }
        #expect(tickets.count == 2)
        #expect(try withCookie(Self.a, 3) == .drop(.sourceHalfOpenLimit))
        #expect(Self.isAdmit(try withCookie(Self.b, 4)))
        let c = IKEEndpoint(address: [192, 0, 2, 3], port: 500)
        #expect(try withCookie(c, 5) == .drop(.halfOpenLimit))
        #expect(try withCookie(c, 6, sessions: 10) == .drop(.sessionLimit))
        // An SA that stops being half-open frees its slot; releasing twice frees nothing more.
        g.release(tickets[0])
        #expect(g.halfOpen == 2 && g.counters.halfOpenPeak == 3)
        #expect(Self.isAdmit(try withCookie(c, 7)))
        g.release(tickets[1])
        g.release(tickets[1])
        #expect(g.halfOpen == 2 && g.halfOpen(from: Self.a.address) == 0)
    }

    @Test func sourceTableIsBoundedAndEvictsIdleSources() throws {
        var g = try Self.gate(IKEAdmissionPolicy(sourceTableCapacity: 4))
        var tickets: [IKEAdmissionTicket] = []
        for i in 1...10 {
            let src = IKEEndpoint(address: [203, 0, 113, UInt8(i)], port: 500)
            if case .admit(let t) = g.admit(try Self.request(from: src, spi: UInt64(i)), sessions: 0, now: Self.at(Double(i))) {
                tickets.append(t)
                g.release(t)
            }
        }
        #expect(tickets.count == 10)
        #expect(g.counters.sources == 4 && g.counters.sourceEvictions == 6)
    }

    @Test func sourcesWithHalfOpenSAsAreNeverEvicted() throws {
        var g = try Self.gate(IKEAdmissionPolicy(sourceTableCapacity: 3))
        for i in 1...3 {
            let src = IKEEndpoint(address: [203, 0, 113, UInt8(i)], port: 500)
            #expect(Self.isAdmit(g.admit(try Self.request(from: src, spi: UInt64(i)), sessions: 0, now: Self.at(1))))
        }
        let newcomer = IKEEndpoint(address: [203, 0, 113, 99], port: 500)
        #expect(g.admit(try Self.request(from: newcomer), sessions: 0, now: Self.at(2)) == .drop(.sourceTableFull))
        #expect(g.halfOpen(from: [203, 0, 113, 1]) == 1 && g.counters.sourceEvictions == 0)
    }

    @Test func returningSourceGetsASecondChance() throws {
        // No refill and a burst of 2: a source's third request in one entry's life gets a
        // cookie; a source whose entry was evicted starts again with a full bucket.
        var g = try Self.gate(IKEAdmissionPolicy(unverifiedRate: IKERate(perSecond: 0, burst: 2), sourceTableCapacity: 2))
        func touch(_ last: UInt8) throws -> IKEAdmissionDecision {
            let src = IKEEndpoint(address: [203, 0, 113, last], port: 500)
            let d = g.admit(try Self.request(from: src, spi: UInt64(last)), sessions: 0, now: Self.at(1))
            if case .admit(let ticket) = d { g.release(ticket) }
            return d
        }
        _ = try touch(1)
        _ = try touch(2)
        _ = try touch(3)  // 1 and 2 were seen once: 1 (first under the hand) goes
        _ = try touch(2)  // 2 comes back: referenced
        _ = try touch(4)  // 2 gets its second chance; 3 (seen once) goes
        #expect(g.counters.sourceEvictions == 2 && g.counters.sources == 2)
        #expect(Self.isCookie(try touch(2)))  // same entry: its bucket is empty
        #expect(Self.isAdmit(try touch(1)))   // evicted long ago: a fresh bucket
    }

    @Test func ipv6SourcesCountPer64() throws {
        var g = try Self.gate(IKEAdmissionPolicy(perSourceCookieThreshold: 1))
        let x = IKEEndpoint(address: [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 1], port: 500)
        let y = IKEEndpoint(address: [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 2], port: 500)
        let z = IKEEndpoint(address: [0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 1], port: 500)
        #expect(Self.isAdmit(g.admit(try Self.request(from: x, spi: 1), sessions: 0, now: Self.at(1))))
        #expect(Self.isCookie(g.admit(try Self.request(from: y, spi: 2), sessions: 0, now: Self.at(1))))
        #expect(Self.isAdmit(g.admit(try Self.request(from: z, spi: 3), sessions: 0, now: Self.at(1))))
        #expect(IKEAdmissionSource(address: x.address)?.description == "2001:db8:1:0::/64")
    }

    @Test func cookieAnswersAreRateLimited() throws {
        var g = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0, cookieReplyRate: IKERate(perSecond: 1, burst: 2)))
        let d = try (1...3).map { g.admit(try Self.request(spi: UInt64($0)), sessions: 0, now: Self.at(1)) }
        #expect(d.prefix(2).allSatisfy(Self.isCookie) && d[2] == .drop(.cookieRateLimited))
        #expect(Self.isCookie(g.admit(try Self.request(spi: 4), sessions: 0, now: Self.at(2))))
    }

    @Test func malformedRequestsAreDroppedWithoutState() throws {
        var g = try Self.gate()
        let garbage = IKEDatagram(bytes: Array(repeating: 0x20, count: 40), source: Self.a, destination: Self.responder)
        #expect(g.admit(garbage, sessions: 0, now: Self.at(1)) == .drop(.malformed))
        let h = IKEHeader(initiatorSPI: IKESPI(1), exchangeType: .ikeSAInit, flags: [.response], messageID: 0)
        let response = IKEDatagram(bytes: try IKEMessage(header: h, payloads: []).encoded(), source: Self.a, destination: Self.responder)
        #expect(g.admit(response, sessions: 0, now: Self.at(1)) == .drop(.malformed))
        let odd = IKEDatagram(bytes: try Self.request().bytes, source: IKEEndpoint(address: [1, 2, 3], port: 500), destination: Self.responder)
        #expect(g.admit(odd, sessions: 0, now: Self.at(1)) == .drop(.malformed))
        #expect(g.counters.dropped[.malformed] == 3 && g.counters.sources == 0 && g.halfOpen == 0)
    }

    /// The engine's initiator meets a gate that demands a cookie (§2.6), resends with it first,
    /// and the handshake completes with the responder the gate admitted.
    @Test func engineInitiatorCompletesThroughCookieGate() throws {
        let setup = SimulationSetup(pki: try SimulationPKI(), ike: Proposals.gcm256, esp: Proposals.espGCM256)
        let net = try setup.network()
        net.hold = true
        var g = try Self.gate(IKEAdmissionPolicy(cookieThreshold: 0))
        net.initiator.start(now: net.now)
        let first = try #require(net.takeHeld().first)
        let decision = g.admit(first, sessions: 0, now: net.now)
        let c = try Self.cookie(in: decision, for: first)
        guard case .respond(let answer) = decision else { return }
        net.deliver(answer)
        let second = try #require(net.takeHeld().first)
        #expect(try IKEMessage(decoding: second.bytes).notifies.first?.data == c)
        guard case .admit(let ticket) = g.admit(second, sessions: 0, now: net.now) else {
            Issue.record("the cookie the initiator returned was not accepted")
            return
        }
        net.deliver(second)
        for _ in 0..<10 {
            let batch = net.takeHeld()
            if batch.isEmpty { break }
            for d in batch { net.deliver(d) }
        }
        #expect(net.initiatorEvents.contains { $0.isEstablished } && net.responderEvents.contains { $0.isEstablished })
        g.release(ticket)
        #expect(g.halfOpen == 0 && g.counters.cookiesAccepted == 1)
    }
}
