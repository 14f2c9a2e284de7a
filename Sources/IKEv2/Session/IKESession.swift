// RFC 7296 §1.2 (initial exchanges), §2.1–§2.3 (requests, responses, retransmission, window),
// §2.11 (addresses of responses), §2.21 (error handling).
import CryptoCore
import NetTypes

/// One IKE SA with one peer, sans I/O (quinn/rustls style): the daemon feeds datagrams and
/// timer expiries in, then drains `pollTransmit` and `pollEvent` and sleeps until
/// `nextDeadline`. Time is the daemon's monotonic `IKEInstant`; randomness, crypto and peer
/// authentication are injected. Exchanges live in `Exchanges/` as extensions, one per file,
/// each with a request builder and the processing for either role (strongSwan's task split).
///
/// Not `Sendable`: it owns keyed crypto contexts. Keep each session in one isolation domain.
public final class IKESession {
    /// Fixed at creation, except in a responder for an unknown source, which takes the
    /// configuration of the dynamic peer IKE_AUTH identifies (`dynamicPeers`).
    public internal(set) var configuration: IKEPeerConfiguration
    /// Where the SA stands, with the data only valid there: the handshake's until IKE_AUTH ends,
    /// then the up SA's (`IKEEstablishedSA`: Child SAs, tasks, timers) until it is deleted or fails.
    var phase: IKESessionPhase = .idle
    /// The phase as the daemon, status and tests see it.
    public var state: IKESessionState { phase.state }

    let provider: any CryptoProvider
    var random: any RandomSource
    var authenticator: any PeerAuthenticator
    /// A responder for an IKE_SA_INIT from an address of no fixed peer: where IKE_AUTH's IDi
    /// finds its peer (IKEDynamicPeers.swift); nil once it did, and for every other session.
    var dynamicPeers: (any IKEDynamicPeerDirectory)?
    /// The dynamic peer IKE_AUTH identified, for the endpoint to file the IKE SA under.
    public internal(set) var selectedTunnel: TunnelID?

    /// Current addresses: the configured ones, then floated to 4500 (§2.23) or taken from the
    /// latest authenticated request (responder).
    public internal(set) var local: IKEEndpoint
    public internal(set) var peer: IKEEndpoint
    public internal(set) var natDetected = false

    // IKE SA (§2.6, §2.10, §2.14)
    public internal(set) var initiatorSPI: IKESPI = .zero
    public internal(set) var responderSPI: IKESPI = .zero
    var nonceI: [UInt8] = []
    var nonceR: [UInt8] = []
    public internal(set) var ikeAlgorithms: IKESelectedAlgorithms?
    var prf: (any PseudoRandomFunction)?
    var keys: IKESAKeys?
    var protection: IKEMessageProtection?
    public internal(set) var peerIdentityText: String?

    /// The Child SA carrying outbound traffic (the newest one during a rekey's overlap).
    public var childSA: ChildSAParameters? { phase.up?.outboundChild }

    /// Every Child SA currently installed (during a rekey, old and new).
    public var childSAs: [ChildSAParameters] { phase.up?.children.map(\.parameters) ?? [] }

    /// The up SA's data (Child SAs, tasks, timers, rekey candidate) while the IKE SA is up.
    var up: IKEEstablishedSA? { phase.up }

    // IKE SA rekeying (§2.18, §2.8.2): the SAs a rekey replaced or made redundant, until the
    // endpoint takes them.
    var retiredQueue = IKEOutboundQueue<IKESideSA>()

    // Message IDs and retransmission (§2.1–§2.3)
    /// The current IKE SA's message IDs, outstanding request and response cache (§2.3).
    var window = IKEExchangeWindow()

    // RFC 7383 fragmentation and RFC 3948 / RFC 7296 §2.23 NAT traversal state.
    var fragmentation = IKEFragmentationState()
    var natTraversal = IKENATTraversalState()

    var transmitQueue = IKEOutboundQueue<IKEDatagram>()
    var eventQueue = IKEOutboundQueue<IKEEvent>()

    public init(configuration: IKEPeerConfiguration, cryptoProvider: any CryptoProvider, random: any RandomSource,
                authenticator: any PeerAuthenticator, dynamicPeers: (any IKEDynamicPeerDirectory)? = nil) {
        self.configuration = configuration
        self.dynamicPeers = dynamicPeers
        self.provider = cryptoProvider
        self.random = random
        self.authenticator = authenticator
        self.local = configuration.local
        self.peer = configuration.peer
        self.isInitiator = configuration.role == .initiator
    }

    /// Original initiator of the current IKE SA (the I flag): the configured role at first,
    /// then whoever initiated the latest IKE SA rekey (RFC 7296 §2.18).
    public internal(set) var isInitiator: Bool

    /// Our IKE SPIs of the SAs this session answers to (the current one, and the peer's
    /// candidate during a collision): the endpoint routes datagrams carrying any of them here
    /// (RFC 7296 §2.18 changes them; replaced SAs are routed to their own entries).
    public var localIKESPIs: [IKESPI] {
        let current = isInitiator ? initiatorSPI : responderSPI
        return (current.isZero ? [] : [current]) + (phase.up?.candidate.map { [$0.keying.localSPI] } ?? [])
    }

    /// The next IKE SA this session no longer uses (replaced by a rekey, or redundant, §2.18,
    /// §2.8.2), for the endpoint to hold as an entry of its own until its Delete is done.
    public func pollRetired() -> IKESideSA? { retiredQueue.pop() }

    // MARK: Daemon API

    /// Initiator: sends the IKE_SA_INIT request. Ignored for a responder or after the start.
    public func start(now: IKEInstant) {
        guard isInitiator, state == .idle else { return }
        do {
            try startInitiator(now: now)
        } catch {
            fail(.internalError, "cannot start IKE_SA_INIT: \(error)")
        }
    }

    /// Feeds one datagram addressed to this SA (the daemon strips the non-ESP marker).
    public func receive(_ datagram: IKEDatagram, now: IKEInstant) {
        guard let header = try? IKEHeader(decoding: datagram.bytes) else { return }
        receive(datagram, header: header, now: now)
    }

    /// A datagram whose header the caller decoded (the endpoint, routing it here).
    public func receive(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant) {
        if phase.up?.candidate?.keying.matches(header) == true {
            withUp { receiveOnCandidate(datagram, header: header, &$0, now: now) }
            return
        }
        if !initiatorSPI.isZero && header.initiatorSPI != initiatorSPI { return }
        if header.nextPayload == .encryptedFragment {
            receiveFragment(header, datagram, now: now)
            return
        }
        if header.isResponse {
            receiveResponse(header, datagram, now: now)
        } else {
            receiveRequest(header, datagram, now: now)
        }
    }

    /// Call when `nextDeadline` has passed: retransmits, or gives up (§2.1); rekeys and expires
    /// Child SAs (§2.8) and checks liveness (§2.4).
    public func timeout(now: IKEInstant) {
        if var request = window.outstanding, now >= request.deadline {
            let policy = configuration.retransmission
            if request.retransmissions >= policy.tries {
                let waited = Int(now.seconds(since: request.firstSent).rounded())
                if state == .established {
                    // §2.4: an established peer that stops answering is dead.
                    emit(.deadPeer(action: configuration.dpdAction))
                    fail(.deadPeer, "peer \(peer) stopped answering: no response to \(request.exchange) after \(request.retransmissions) retransmissions over \(waited)s; action \(configuration.dpdAction.rawValue)")
                    return
                }
                fail(.timeout, "no response to \(request.exchange) from \(peer) after \(request.retransmissions) retransmissions over \(waited)s; check that the peer is reachable on UDP \(peer.port) and runs IKEv2")
                return
            }
            request.retransmissions += 1
            request.deadline = now.adding(seconds: retransmissionInterval(request.retransmissions))
            window.outstanding = request
            for d in request.wire { transmitQueue.append(d) }  // RFC 7383 §2.6: every fragment
        }
        withUp { candidateTimers(&$0, now: now) }
        if case .initAnswered(let handshake) = phase, now >= handshake.halfOpenDeadline {
            fail(.timeout, "peer \(peer) answered IKE_SA_INIT but never completed IKE_AUTH within \(Int(configuration.halfOpenTimeoutSeconds))s")
        }
        if state == .established { withUp { lifecycleTimers(&$0, now: now) } }
        natKeepaliveTimer(now: now)
    }

    public func pollTransmit() -> IKEDatagram? { transmitQueue.pop() }
    public func pollEvent() -> IKEEvent? { eventQueue.pop() }

    /// When `timeout(now:)` must next be called; nil when nothing is pending.
    public var nextDeadline: IKEInstant? {
        var d = window.outstanding?.deadline
        if case .initAnswered(let handshake) = phase {
            let h = handshake.halfOpenDeadline
            d = d.map { min($0, h) } ?? h
        }
        if let up = phase.up {
            if let l = lifecycleDeadline(up) { d = d.map { min($0, l) } ?? l }
            if let s = up.candidate?.nextDeadline { d = d.map { min($0, s) } ?? s }
        }
        if let k = natKeepaliveDeadline { d = d.map { min($0, k) } ?? k }
        return d
    }

    // MARK: Dispatch (§2.2: responses matched by message ID; §2.1: retransmitted requests)

    /// `reassembled`: a message put together from SKF fragments (RFC 7383 §2.6), whose inner
    /// payloads `openProtected` returns.
    func receiveResponse(_ header: IKEHeader, _ datagram: IKEDatagram, now: IKEInstant, reassembled: IKEMessage? = nil) {
        guard let request = window.outstanding, header.messageID == request.messageID,
              header.exchangeType == request.exchange, header.isInitiator != isInitiator else { return }
        if !responderSPI.isZero && header.responderSPI != responderSPI { return }
        guard let message = reassembled ?? decode(datagram, header) else { return }
        do {
            switch request.exchange {
            case .ikeSAInit:
                guard case .initSent(let handshake) = phase else { return }
                try processInitResponse(message, datagram, handshake, now: now)
            case .ikeIntermediate:
                guard case .intermediateSent(let step) = phase else { return }
                try processIntermediateResponse(message, datagram, step, now: now)
            case .ikeAuth:
                guard case .authSent(let authentication) = phase else { return }
                try processAuthResponse(message, datagram, authentication, now: now)
            case .informational: try withUp { try processInformationalResponse(message, datagram, &$0, now: now) }
            case .createChildSA:
                try withUp { up in
                    if case .rekeyIKE = up.activeTask {
                        try processIKERekeyResponse(message, datagram, &up, now: now)
                    } else {
                        try processChildRekeyResponse(message, datagram, &up, now: now)
                    }
                }
            default: return
            }
        } catch {
            fail(.internalError, "processing the \(request.exchange) response from \(peer) failed: \(error)")
        }
    }

    func receiveRequest(_ header: IKEHeader, _ datagram: IKEDatagram, now: IKEInstant, reassembled: IKEMessage? = nil) {
        guard header.isInitiator != isInitiator else { return }
        if let cached = window.cachedResponse, header.messageID == cached.messageID {
            // §2.1: a retransmission is answered from the cache, never processed again.
            if cached.request == datagram.bytes {
                for bytes in cached.wire {
                    transmitQueue.append(IKEDatagram(bytes: bytes, source: datagram.destination, destination: datagram.source))
                }
            }
            return
        }
        guard !state.isTerminal, header.messageID == window.expectedPeerRequestID else { return }
        if header.exchangeType != .ikeSAInit, header.responderSPI != responderSPI || responderSPI.isZero { return }
        guard let message = reassembled ?? decode(datagram, header) else { return }
        do {
            switch (header.exchangeType, phase) {
            case (.ikeSAInit, .idle) where !isInitiator: try processInitRequest(message, datagram, now: now)
            case (.ikeIntermediate, .initAnswered(let handshake)): try processIntermediateRequest(message, datagram, handshake, now: now)
            case (.ikeAuth, .initAnswered(let handshake)): try processAuthRequest(message, datagram, handshake, now: now)
            case (.informational, .established), (.informational, .deleting):
                try withUp { try processInformationalRequest(message, datagram, &$0, now: now) }
            case (.createChildSA, .established): try withUp { try processCreateChildSARequest(message, datagram, &$0, now: now) }
            case (.createChildSA, .deleting): try withUp { try refuseWhileDeleting(message, datagram, &$0, now: now) }
            default: return
            }
        } catch {
            fail(.internalError, "processing the \(header.exchangeType) request from \(datagram.source) failed: \(error)")
        }
    }

    /// Undecodable messages are dropped (§2.21: never answer what may be spoofed before the SA
    /// is authenticated); the peer's retransmission or our timeout sorts it out.
    private func decode(_ datagram: IKEDatagram, _ header: IKEHeader) -> IKEMessage? {
        try? IKEMessage(decoding: datagram.bytes, header: header)
    }

    // MARK: Sending

    func header(_ exchange: IKEExchangeType, messageID: UInt32, response: Bool) -> IKEHeader {
        var flags: IKEHeader.Flags = response ? [.response] : []
        if isInitiator { flags.insert(.initiator) }
        return IKEHeader(initiatorSPI: initiatorSPI, responderSPI: responderSPI, exchangeType: exchange,
                         flags: flags, messageID: messageID)
    }

    func sendRequest(_ bytes: [UInt8], exchange: IKEExchangeType, messageID: UInt32, now: IKEInstant) {
        let datagram = IKEDatagram(bytes: bytes, source: local, destination: peer)
        let wire = wireMessages(bytes)
        window.outstanding = IKEOutstandingRequest(exchange: exchange, messageID: messageID, datagram: datagram,
                                            retransmissions: 0, deadline: now.adding(seconds: retransmissionInterval(0)),
                                            firstSent: now,
                                            fragments: wire.count > 1 ? wire.map { IKEDatagram(bytes: $0, source: local, destination: peer) } : [])
        for d in window.outstanding?.wire ?? [] { transmitQueue.append(d) }
    }

    /// §2.11: a response goes back to the address and port the request came from.
    func sendResponse(_ bytes: [UInt8], to request: IKEDatagram, messageID: UInt32, cache: Bool = true) {
        let wire = wireMessages(bytes)
        if cache {
            window.answered(messageID, request: request.bytes, response: bytes, fragments: wire.count > 1 ? wire : [])
        }
        for b in wire { transmitQueue.append(IKEDatagram(bytes: b, source: request.destination, destination: request.source)) }
    }

    /// A request we do not retransmit (error reports and deletes after a failure, §2.21.2).
    func sendOneShot(_ payloads: [IKEPayload], exchange: IKEExchangeType) {
        guard let protection else { return }
        let messageID = window.takeRequestID()
        guard let bytes = try? protection.seal(header: header(exchange, messageID: messageID, response: false),
                                               payloads: payloads, random: &random) else { return }
        transmitQueue.append(IKEDatagram(bytes: bytes, source: local, destination: peer))
    }

    func sealed(_ header: IKEHeader, _ payloads: [IKEPayload]) throws -> [UInt8] {
        guard let protection else { throw IKEProtectionError(message: "no IKE SA keys yet") }
        let bytes = try protection.seal(header: header, payloads: payloads, random: &random)
        try prepareFragments(whole: bytes, header: header, payloads: payloads)  // RFC 7383 §2.5
        return bytes
    }

    /// §2.1: timeout * base^n, shortened by up to `jitter` of itself with injected randomness.
    func retransmissionInterval(_ attempt: Int) -> Double {
        configuration.retransmission.interval(afterAttempt: attempt, jitter: &random)
    }

    // MARK: Outcomes

    func emit(_ event: IKEEvent) { eventQueue.append(event) }

    /// Ends the SA. Its Child SAs are reported deleted before the failure: here from the phase,
    /// or, when `withUp` has the up SA's data out of the phase, by `withUp` on its way out.
    func fail(_ code: IKEFailure.Code, _ message: String, notify: IKENotifyType? = nil, reportedByPeer: Bool = false) {
        guard !state.isTerminal else { return }
        let failure = IKEFailure(code, message, notify: notify?.rawValue, reportedByPeer: reportedByPeer)
        let up = phase.up
        phase = .failed(failure)  // the phase's data (handshake or up SA) goes with it
        window.outstanding = nil
        // The SAs die with the IKE SA: the data plane removes them.
        if let up { reportChildrenEnded(up) }
        emit(.ikeSAFailed(failure))
    }

    /// `childSADeleted` for each of `up`'s Child SAs, queued ahead of the SA's failure if that
    /// is queued already (`withUp` after a `fail`), else last.
    private func reportChildrenEnded(_ up: IKEEstablishedSA) {
        eventQueue.insert(up.children.lazy.map { .childSADeleted(inboundSPI: $0.inboundSPI, outboundSPI: $0.outboundSPI) },
                          beforeLast: { if case .ikeSAFailed = $0 { true } else { false } })
    }

    /// Runs `body` on the up SA's data (`.established` or `.deleting`), taken out of the phase
    /// meanwhile (the `.modifying` placeholder) so that its arrays are mutated in place, never
    /// copied. It goes back only if the phase is still the placeholder. After a `fail` in `body`
    /// the SA stays ended and its Child SAs are reported here, ahead of the failure (`fail`
    /// cannot see them); after a Delete (`endDeleted`, which takes the data) it stays closed.
    /// Nil, without running `body`, in any other phase, and under another `withUp` (code there
    /// gets the data as a parameter).
    @discardableResult
    func withUp<R>(_ body: (inout IKEEstablishedSA) throws -> R) rethrows -> R? {
        var up: IKEEstablishedSA
        let deleting: Bool
        switch phase {
        case .established(let data): up = data; deleting = false
        case .deleting(let data): up = data; deleting = true
        default: return nil
        }
        phase = .modifying(deleting: deleting)
        defer {
            switch phase {
            case .modifying(let deleting): phase = deleting ? .deleting(up) : .established(up)
            case .failed: reportChildrenEnded(up)
            default: break  // closed by a Delete: `endDeleted` reported the Child SAs
            }
        }
        return try body(&up)
    }

    func wallClockSeconds(_ now: IKEInstant) -> Int64 { configuration.wallClock.epochSeconds(at: now) }

    func randomSPI() throws -> IKESPI {
        while true {
            let b = try random.bytes(8)
            if let spi = IKESPI(bytes: b), !spi.isZero { return spi }
        }
    }

    /// An ESP SPI: random, and never in 0...255 (reserved by IANA, RFC 4303 §2.1).
    func randomESPSPI() throws -> ESPSPI {
        while true {
            let b = try random.bytes(4)
            let v = b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if v >= 256 { return ESPSPI(v) }
        }
    }
}
