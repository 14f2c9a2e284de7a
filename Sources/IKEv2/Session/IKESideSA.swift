// RFC 7296 §2.18 (the old IKE SA lives until its Delete), §2.8.2 (simultaneous IKE SA rekeys
// leave a redundant SA), §2.3 (each IKE SA has its own message IDs and window), §2.25.2 (an
// IKE SA being closed is not rekeyed, nor are its Child SAs, which moved).
import CryptoCore
import NetTypes

/// An IKE SA beside the one that carries its tunnel: the one an IKE SA rekey replaced, the
/// redundant one of a §2.8.2 collision, or the peer's new SA while such a collision is
/// undecided (a candidate).
///
/// A candidate stays inside its session, which decides the collision. Replaced and redundant
/// SAs leave it (`IKESession.pollRetired`) and become entries of their own in the endpoint's
/// table, like every other IKE SA: routed to by their SPIs and timed there, they answer the
/// peer's retransmissions from their own cache and its requests (its Delete; TEMPORARY_FAILURE
/// to a rekey), send and retransmit our Delete, and are done once that is answered or their
/// linger time is up. What the peer tells a replaced SA about the tunnel (that it is alive,
/// which Child SAs it deletes) reaches the current IKE SA as an `IKESARelay`.
public struct IKESideSA {
    enum Purpose: Equatable {
        /// The SA an IKE rekey replaced; the rekey's initiator deletes it (§2.18).
        case replaced
        /// §2.8.2: the new SA made with the lowest of the four nonces; its creator deletes it.
        case redundant
        /// §2.8.2: the peer's new SA, answered while our own IKE rekey is still in flight.
        case candidate
    }

    var keying: IKESAKeying
    var purpose: Purpose
    /// Its own message IDs and response cache; `outstanding` is our Delete of it, or our IKE
    /// rekey request that was in flight when it was replaced.
    var window: IKEExchangeWindow
    /// Our IKE rekey whose answer may still arrive on this SA after the peer replaced it.
    var rekey: IKESARekeyContext?
    /// Deleted (by either side): only retransmissions are answered, from the cache.
    var closed = false
    /// Forgotten then even if the peer never deletes it (bounded memory, bounded routing).
    var forgetAt: IKEInstant
    /// Nothing is left to do: our Delete was answered or went unanswered, or its time is up.
    private(set) var done = false

    private let local: IKEEndpoint
    private let peer: IKEEndpoint
    private let configuration: IKEPeerConfiguration
    private let provider: any CryptoProvider
    private var random: any RandomSource
    private var transmitQueue = IKEOutboundQueue<IKEDatagram>()
    private var relays = IKEOutboundQueue<IKESARelay>()
    private var retiredQueue = IKEOutboundQueue<IKESideSA>()
    /// The peer's Delete of Child SAs on a replaced SA, answered once the current SA has said
    /// which of them are ours (`answerChildDeletes`).
    private var childDeleteRequest: (header: IKEHeader, datagram: IKEDatagram, deletesIKE: Bool)?

    /// How long a side SA is kept for its Delete: the peer's whole retransmission schedule
    /// plus a little, so memory and routes stay bounded.
    static func lingerSeconds(_ policy: IKERetransmissionPolicy) -> Double {
        (0...max(0, policy.tries)).reduce(10) { $0 + policy.interval(afterAttempt: $1) }
    }

    /// At most this many side SAs per tunnel's IKE SA: a peer that rekeys the IKE SA as fast as
    /// it can must not make us keep one per rekey for the whole linger time.
    static let maxPerIKESA = 8

    init(keying: IKESAKeying, purpose: Purpose, window: IKEExchangeWindow = IKEExchangeWindow(), now: IKEInstant,
         local: IKEEndpoint, peer: IKEEndpoint, configuration: IKEPeerConfiguration, provider: any CryptoProvider,
         random: any RandomSource) {
        self.keying = keying
        self.purpose = purpose
        self.window = window
        self.forgetAt = now.adding(seconds: Self.lingerSeconds(configuration.retransmission))
        self.local = local
        self.peer = peer
        self.configuration = configuration
        self.provider = provider
        self.random = random
    }

    /// Another SA of the same tunnel, with its own randomness.
    private mutating func sibling(_ keying: IKESAKeying, _ purpose: Purpose, now: IKEInstant) -> IKESideSA {
        IKESideSA(keying: keying, purpose: purpose, now: now, local: local, peer: peer, configuration: configuration,
                  provider: provider, random: random.split())
    }

    private func header(_ exchange: IKEExchangeType, messageID: UInt32, response: Bool) -> IKEHeader {
        var flags: IKEHeader.Flags = response ? [.response] : []
        if keying.originalInitiator { flags.insert(.initiator) }
        return IKEHeader(initiatorSPI: keying.initiatorSPI, responderSPI: keying.responderSPI,
                         exchangeType: exchange, flags: flags, messageID: messageID)
    }

    /// HDR(side), SK {D(IKE)}, retransmitted on the side SA's own window.
    mutating func sendDelete(now: IKEInstant) {
        let messageID = window.takeRequestID()
        guard let bytes = try? keying.protection.seal(header: header(.informational, messageID: messageID, response: false),
                                                      payloads: [.delete(.ikeSA)], random: &random) else { return }
        let datagram = IKEDatagram(bytes: bytes, source: local, destination: peer)
        window.outstanding = IKEOutstandingRequest(
            exchange: .informational, messageID: messageID, datagram: datagram, retransmissions: 0,
            deadline: now.adding(seconds: configuration.retransmission.interval(afterAttempt: 0, jitter: &random)),
            firstSent: now)
        transmitQueue.append(datagram)
    }

    // MARK: Requests

    private func open(_ datagram: IKEDatagram, _ header: IKEHeader) -> [IKEPayload]? {
        guard let message = try? IKEMessage(decoding: datagram.bytes, header: header), let sk = message.encryptedPayload else { return nil }
        return try? keying.protection.open(raw: datagram.bytes, sk: sk)
    }

    public mutating func receive(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant) {
        guard !done, header.isInitiator != keying.originalInitiator else { return }
        if header.isResponse {
            receiveResponse(header, datagram, now: now)
            return
        }
        if let cached = window.cachedResponse, header.messageID == cached.messageID {
            // §2.1: e.g. the rekey request whose answer was lost, retransmitted on the old SA.
            if cached.request == datagram.bytes {
                transmitQueue.append(IKEDatagram(bytes: cached.response, source: datagram.destination, destination: datagram.source))
            }
            return
        }
        guard !closed, header.messageID == window.expectedPeerRequestID, let inner = open(datagram, header) else { return }
        relays.append(.peerActivity)
        let deletesIKE = inner.contains { if case .delete(let d) = $0 { d.protocolID == .ike } else { false } }
        switch header.exchangeType {
        case .informational:
            // A Delete of Child SAs sent on the replaced SA still means them (they moved, §2.18):
            // the current SA answers for them.
            var peerSPIs: [ESPSPI] = []
            if purpose == .replaced {
                for case .delete(let d) in inner where d.protocolID == .esp { peerSPIs += d.espSPIs }
            }
            if peerSPIs.isEmpty {
                answer(header, datagram, [], deletesIKE: deletesIKE)
            } else {
                childDeleteRequest = (header, datagram, deletesIKE)
                relays.append(.childDeletes(peerSPIs))
            }
        // §2.25.2: an IKE SA being closed is not rekeyed, nor are its Child SAs (they moved).
        case .createChildSA:
            answer(header, datagram, [.notify(IKENotify(type: .temporaryFailure))], deletesIKE: deletesIKE)
        default:
            return
        }
    }

    /// The current SA's answer to a relayed `.childDeletes`: our inbound SPIs of those Child SAs.
    mutating func answerChildDeletes(_ ours: [ESPSPI]) {
        guard let request = childDeleteRequest else { return }
        childDeleteRequest = nil
        answer(request.header, request.datagram, ours.isEmpty ? [] : [.delete(.childSAs(ours))], deletesIKE: request.deletesIKE)
    }

    private mutating func answer(_ request: IKEHeader, _ datagram: IKEDatagram, _ payloads: [IKEPayload], deletesIKE: Bool) {
        guard let bytes = try? keying.protection.seal(header: header(request.exchangeType, messageID: request.messageID, response: true),
                                                      payloads: payloads, random: &random) else { return }
        window.answered(request.messageID, request: datagram.bytes, response: bytes)
        transmitQueue.append(IKEDatagram(bytes: bytes, source: datagram.destination, destination: datagram.source))
        if deletesIKE { closed = true }
    }

    // MARK: Responses

    private mutating func receiveResponse(_ header: IKEHeader, _ datagram: IKEDatagram, now: IKEInstant) {
        guard let request = window.outstanding, header.messageID == request.messageID,
              header.exchangeType == request.exchange, let inner = open(datagram, header) else { return }
        relays.append(.peerActivity)
        window.outstanding = nil
        if request.exchange == .createChildSA, let context = rekey {
            rekey = nil
            // The peer replaced this SA by its own rekey's; an SA our rekey made anyway is redundant.
            if let made = IKESAKeying(rekeyResponse: inner, context, old: keying, proposals: configuration.ikeProposals,
                                      provider: provider) {
                var redundant = sibling(made, .redundant, now: now)
                redundant.sendDelete(now: now)
                retiredQueue.append(redundant)
            }
            return
        }
        done = true  // our Delete was answered
    }

    // MARK: Time

    /// Retransmits our request (§2.1); a Delete that goes unanswered is given up (the IKE SA that
    /// matters is the current one), and the SA is done when its linger time is up.
    public mutating func timeout(now: IKEInstant) {
        guard !done else { return }
        if var request = window.outstanding, now >= request.deadline {
            if request.retransmissions >= configuration.retransmission.tries {
                window.outstanding = nil
                rekey = nil
                if request.exchange == .informational {
                    done = true
                    return
                }
            } else {
                request.retransmissions += 1
                request.deadline = now.adding(seconds: configuration.retransmission.interval(afterAttempt: request.retransmissions,
                                                                                             jitter: &random))
                window.outstanding = request
                transmitQueue.append(request.datagram)
            }
        }
        if window.outstanding == nil, forgetAt <= now { done = true }
    }

    public var nextDeadline: IKEInstant? { done ? nil : window.outstanding?.deadline ?? forgetAt }

    public mutating func pollTransmit() -> IKEDatagram? { transmitQueue.pop() }
    mutating func pollRelay() -> IKESARelay? { relays.pop() }
}

extension IKESideSA: IKESessionDriving {
    /// It exists only once made by a rekey: there is nothing to start.
    public mutating func start(now: IKEInstant) {}
    /// A side SA reports nothing of its own; what matters goes to the current SA as relays.
    public mutating func pollEvent() -> IKEEvent? { nil }
    public var localIKESPIs: [IKESPI] { done ? [] : [keying.localSPI] }
    public mutating func pollRetired() -> IKESideSA? { retiredQueue.pop() }
}

/// What a side IKE SA heard that concerns the IKE SA now carrying its tunnel; the endpoint hands
/// it over (`IKESessionDriving.relayed`).
public enum IKESARelay: Hashable, Sendable {
    /// An authenticated message arrived: the peer is alive (§2.4).
    case peerActivity
    /// §2.18: the peer deletes Child SAs through the SA it replaced (our outbound SPIs, its
    /// inbound ones); they moved to the current SA, which removes them and says which are ours.
    case childDeletes([ESPSPI])
}

/// Our outstanding CREATE_CHILD_SA that rekeys the IKE SA (§1.3.2).
struct IKESARekeyContext {
    /// Our SPI in the new SA (the proposal SPI of our SA payload).
    var newSPI: IKESPI
    var nonce: [UInt8]
    var keyExchange: any KeyExchange
    var invalidKERetries = 0
}
