// The two-engine harness of ike-stateful and ike-fragments. This is the ONE file of the fuzz
// package that uses the engine's internals (`@testable import IKEv2`, built with
// -enable-testing): the session's IKE SA protection, its header builder and its exchange window.
// When Sources/IKEv2/Session or Exchanges rename them, only this file changes.
import ViaductCrypto
import CryptoCore
@testable import IKEv2

/// An initiator (gw1, 192.0.2.1) and a responder (gw2, 198.51.100.1) with real OpenSSL crypto,
/// seeded randomness and the throwaway PKI, driven to a known state; then messages whose
/// *plaintext* the fuzzer chose, sealed with that IKE SA's keys so they pass the integrity check.
public final class EnginePair {
    public static let gw1 = IKEEndpoint(address: [192, 0, 2, 1], port: 500)
    public static let gw2 = IKEEndpoint(address: [198, 51, 100, 1], port: 500)

    public let initiator: IKESession
    public let responder: IKESession
    public private(set) var now = IKEInstant(nanoseconds: 1_000_000_000)
    private var sealRandom = SeededRandomSource(seed: 0x5EA1)

    static func configuration(_ role: IKERole) -> IKEPeerConfiguration {
        let initiator = role == .initiator
        return IKEPeerConfiguration(
            role: role, local: initiator ? gw1 : gw2, peer: initiator ? gw2 : gw1,
            localIdentity: .fqdn(initiator ? "gw1.example.net" : "gw2.example.net"),
            peerIdentity: .fqdn(initiator ? "gw2.example.net" : "gw1.example.net"),
            ikeProposals: [IKEAlgorithmSet(encryption: [.aesGCM16(keyBits: 128)], prf: [.hmacSHA256], groups: [.curve25519])],
            espProposals: [ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 128)]),
                           ESPAlgorithmSet(encryption: [.aesGCM16(keyBits: 256)], groups: [.curve25519])],
            retransmission: .strongSwanDefaults,
            wallClock: IKEWallClock(epochSecondsAtInstantZero: ThrowawayPKI.now))
    }

    /// Two fresh sessions (same seeds every time: the same SPIs, nonces and keys).
    public init() {
        let pki = ThrowawayPKI.shared
        initiator = IKESession(configuration: Self.configuration(.initiator), cryptoProvider: OpenSSLCryptoProvider(),
                               random: SeededRandomSource(seed: 1), authenticator: pki.authenticator("gw1.example.net"))
        responder = IKESession(configuration: Self.configuration(.responder), cryptoProvider: OpenSSLCryptoProvider(),
                               random: SeededRandomSource(seed: 0x1001), authenticator: pki.authenticator("gw2.example.net"))
    }

    private init(initiator: IKESession, responder: IKESession, now: IKEInstant) {
        self.initiator = initiator
        self.responder = responder
        self.now = now
    }

    // MARK: Prepared once, copied per input

    /// A pair independent of this one in the same state: each session copied (`copy(_:)`), the
    /// same clock, and the sealing randomness from its seed again. The targets bring a pair to
    /// its state once per process (the certificate handshake is what made them slow) and run
    /// each input on a copy, so no input sees what an earlier one did.
    public func copy() -> EnginePair {
        EnginePair(initiator: Self.copy(initiator), responder: Self.copy(responder), now: now)
    }

    /// Every stored property of `IKESession`, in declaration order: `copy(_:)` copies each. A
    /// session with another list (the engine grew a property) stops the target at start-up
    /// (`checkCopies`), before it fuzzes with copies that miss it.
    static let sessionProperties = [
        "configuration", "phase", "provider", "random", "authenticator", "dynamicPeers", "selectedTunnel", "local",
        "peer", "natDetected", "initiatorSPI", "responderSPI", "nonceI", "nonceR", "ikeAlgorithms", "prf", "keys",
        "protection", "peerIdentityText", "retiredQueue", "window", "fragmentation", "natTraversal", "transmitQueue",
        "eventQueue", "isInitiator",
    ]

    /// A session in the same state as `s`. Its values are copied; its keyed crypto objects (the
    /// PRF, the IKE SA's protection, which counts IVs) are made again from the same keys, so
    /// the copy shares no mutable object with `s`. Only for a session at rest: nothing in
    /// flight that holds a key exchange, no rekey candidate, no retired SA.
    static func copy(_ s: IKESession) -> IKESession {
        guard s.up?.activeTask == nil, s.up?.candidate == nil, s.retiredQueue.isEmpty else {
            fatalError("harness: only a session with no exchange of its own in flight can be copied")
        }
        let c = IKESession(configuration: s.configuration, cryptoProvider: s.provider, random: s.random,
                           authenticator: s.authenticator, dynamicPeers: s.dynamicPeers)
        c.phase = s.phase
        c.selectedTunnel = s.selectedTunnel
        c.local = s.local
        c.peer = s.peer
        c.natDetected = s.natDetected
        c.initiatorSPI = s.initiatorSPI
        c.responderSPI = s.responderSPI
        c.nonceI = s.nonceI
        c.nonceR = s.nonceR
        c.ikeAlgorithms = s.ikeAlgorithms
        c.keys = s.keys
        c.peerIdentityText = s.peerIdentityText
        c.retiredQueue = s.retiredQueue
        c.window = s.window
        c.fragmentation = s.fragmentation
        c.natTraversal = s.natTraversal
        c.transmitQueue = s.transmitQueue
        c.eventQueue = s.eventQueue
        c.isInitiator = s.isInitiator
        if let algorithms = s.ikeAlgorithms, let keys = s.keys {
            do {
                c.prf = try s.provider.makePRF(algorithms.prf)
                c.protection = try IKEMessageProtection(provider: s.provider, algorithms: algorithms, keys: keys,
                                                        isInitiator: s.isInitiator)
            } catch {
                fatalError("harness: the copy's keys cannot be set up: \(error)")
            }
        }
        return c
    }

    /// Checks once that copies work: `IKESession` has the properties `copy(_:)` copies; a copy of an `afterSAInit` pair completes IKE_AUTH with
    /// the initiator's outstanding request, and a copy of an `established` pair rekeys its
    /// Child SA; each twice over from the same original, with the same result.
    public func checkCopies() {
        for s in [initiator, responder] {
            let properties = Mirror(reflecting: s).children.compactMap(\.label)
            guard properties == Self.sessionProperties else {
                fatalError("harness: IKESession's stored properties are \(properties); EnginePair.copy copies \(Self.sessionProperties)")
            }
        }
        for _ in 0..<2 {
            let pair = copy()
            if initiator.state == .established {
                let before = pair.initiator.childSAs.map(\.inboundSPI)
                _ = pair.initiator.perform(.rekeyChild, now: pair.now)
                pair.settle()
                let after = pair.initiator.childSAs.map(\.inboundSPI)
                guard pair.initiator.state == .established, pair.responder.state == .established, !after.isEmpty,
                      Set(after) != Set(before), initiator.childSAs.map(\.inboundSPI) == before else {
                    fatalError("harness: a copy of the established pair did not rekey its Child SA (\(before) -> \(after))")
                }
            } else {
                for d in pair.initiator.window.outstanding?.wire ?? [] { pair.responder.receive(d, now: pair.now) }
                pair.settle()
                guard pair.initiator.state == .established, pair.responder.state == .established,
                      initiator.state == .authSent else {
                    fatalError("harness: a copy after IKE_SA_INIT did not complete IKE_AUTH (\(pair.initiator.state), \(pair.responder.state))")
                }
            }
        }
    }

    /// IKE_SA_INIT done both ways; the initiator's IKE_AUTH request (message 1) is outstanding
    /// but was not delivered: the responder waits for message 1.
    public static func afterSAInit() -> EnginePair {
        let pair = EnginePair()
        pair.initiator.start(now: pair.now)
        pair.deliver(from: pair.initiator, to: pair.responder)
        pair.deliver(from: pair.responder, to: pair.initiator)
        _ = pair.take(from: pair.initiator)
        pair.drainEvents()
        guard pair.initiator.protection != nil, pair.responder.protection != nil else {
            fatalError("harness: IKE_SA_INIT did not complete")
        }
        return pair
    }

    /// IKE_SA_INIT and IKE_AUTH done: both established with one Child SA, nothing in flight.
    public static func established() -> EnginePair {
        let pair = EnginePair()
        pair.initiator.start(now: pair.now)
        pair.settle()
        guard pair.initiator.state == .established, pair.responder.state == .established else {
            fatalError("harness: the IKE SA did not come up (\(pair.initiator.state), \(pair.responder.state))")
        }
        return pair
    }

    /// Exchanges datagrams until neither side has anything to send.
    public func settle(limit: Int = 64) {
        for _ in 0..<limit {
            let moved = deliver(from: initiator, to: responder) + deliver(from: responder, to: initiator)
            drainEvents()
            if moved == 0 { return }
        }
    }

    /// Moves every queued datagram of `from` to `to`; how many.
    @discardableResult
    public func deliver(from: IKESession, to: IKESession) -> Int {
        let datagrams = take(from: from)
        for d in datagrams { to.receive(d, now: now) }
        return datagrams.count
    }

    /// Takes (and drops) what `session` wants to send.
    public func take(from session: IKESession) -> [IKEDatagram] {
        var out: [IKEDatagram] = []
        while let d = session.pollTransmit() { out.append(d) }
        return out
    }

    public func drainEvents() {
        while initiator.pollEvent() != nil {}
        while responder.pollEvent() != nil {}
    }

    /// Moves time on and fires both sessions' timers (retransmissions, rekeys, timeouts).
    public func advance(seconds: Double) {
        now = now.adding(seconds: seconds)
        initiator.timeout(now: now)
        responder.timeout(now: now)
        drainEvents()
    }

    // MARK: What the fuzzer sends

    /// The message ID `receiver` expects of the peer's next request.
    public func expectedRequestID(of receiver: IKESession) -> UInt32 { receiver.window.expectedPeerRequestID }

    /// `session`'s outstanding request: its exchange and message ID.
    public func outstanding(of session: IKESession) -> (exchange: IKEExchangeType, messageID: UInt32)? {
        session.window.outstanding.map { ($0.exchange, $0.messageID) }
    }

    /// A message from `sender` (its SPIs, flags and keys) whose SK payload carries `plaintext`
    /// (an inner payload chain, or anything) with `firstPayload` as the SK's Next Payload.
    public func sealed(from sender: IKESession, _ exchange: IKEExchangeType, messageID: UInt32, response: Bool,
                       firstPayload: UInt8, plaintext: [UInt8]) -> IKEDatagram? {
        guard let protection = sender.protection else { return nil }
        let header = sender.header(exchange, messageID: messageID, response: response)
        guard let bytes = try? protection.seal(header: header, plaintext: plaintext[...], random: &sealRandom, wrap: {
            .encrypted(IKEEncrypted(firstPayload: IKEPayloadType(rawValue: firstPayload), data: $0))
        }) else { return nil }
        return IKEDatagram(bytes: bytes, source: sender.local, destination: sender.peer)
    }

    /// The same as an SKF fragment (RFC 7383 §2.5): `number` of `total`, its piece of plaintext.
    public func sealedFragment(from sender: IKESession, _ exchange: IKEExchangeType, messageID: UInt32, response: Bool,
                               firstPayload: UInt8, number: UInt16, total: UInt16, plaintext: [UInt8]) -> IKEDatagram? {
        guard let protection = sender.protection else { return nil }
        var header = sender.header(exchange, messageID: messageID, response: response)
        header.nextPayload = .encryptedFragment
        guard let bytes = try? protection.seal(header: header, plaintext: plaintext[...], random: &sealRandom, wrap: {
            .encryptedFragment(IKEEncryptedFragment(firstPayload: IKEPayloadType(rawValue: firstPayload),
                                                    fragmentNumber: number, totalFragments: total, data: $0))
        }) else { return nil }
        return IKEDatagram(bytes: bytes, source: sender.local, destination: sender.peer)
    }

    /// The decrypted inner chain (first payload type, plaintext) of a protected `datagram` that
    /// `receiver` would accept: what the seed writers record.
    public func opened(_ datagram: IKEDatagram, by receiver: IKESession) -> (firstPayload: UInt8, plaintext: [UInt8])? {
        guard let protection = receiver.protection, let message = try? IKEMessage(decoding: datagram.bytes),
              let sk = message.encryptedPayload,
              let plaintext = try? protection.openPlaintext(raw: datagram.bytes, data: sk.data) else { return nil }
        return (sk.firstPayload.rawValue, plaintext)
    }
}
