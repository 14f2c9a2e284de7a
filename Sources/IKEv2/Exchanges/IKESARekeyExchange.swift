// RFC 7296 §1.3.2 (rekeying the IKE SA with CREATE_CHILD_SA), §2.18 (SKEYSEED from the old
// SK_d, new SPIs, message IDs from zero, Child SAs move to the new SA), §2.8.2 (simultaneous
// IKE SA rekeys: the new SA with the lowest of the four nonces is deleted by its creator),
// §2.25.2 (a rekey crossing a Delete, or an exchange still in flight):
//
//   Initiator                         Responder
//   HDR, SK {SA, Ni, KEi}  -->                           (SA proposal SPI: our new SPI)
//                          <--  HDR, SK {SA, Nr, KEr}    (SA proposal SPI: the peer's new SPI)
//   HDR(old), SK {D(IKE)}  -->
//                          <--  HDR(old), SK {}
import CryptoCore
import NetTypes

extension IKESession {
    /// The payloads of an IKE SA rekey the exchange looks at.
    private struct RekeyPayloads {
        var sa: IKESecurityAssociation?
        var nonce: [UInt8]?
        var ke: IKEKeyExchange?
        var error: IKENotify?

        init(_ payloads: [IKEPayload]) {
            for p in payloads {
                switch p {
                case .securityAssociation(let s): sa = s
                case .nonce(let n): nonce = n.data
                case .keyExchange(let k): ke = k
                case .notify(let n) where n.type.rawValue < 16384 && error == nil: error = n
                default: break
                }
            }
        }
    }

    /// A CREATE_CHILD_SA request is an IKE SA rekey when its SA payload proposes protocol IKE
    /// (§1.3.2: no REKEY_SA notify there, the proposal SPI is the initiator's new SPI).
    static func isIKERekeyRequest(_ payloads: [IKEPayload]) -> Bool {
        payloads.contains { if case .securityAssociation(let s) = $0 { s.proposals.contains { $0.protocolID == .ike } } else { false } }
    }

    /// §2.18: the soft lifetime of the IKE SA, with jitter so that many tunnels spread out.
    func scheduleIKERekey(now: IKEInstant) {
        ikeRekeyAt = now.adding(seconds: rekeyDelay(lifetime: configuration.ikeLifetimeSeconds,
                                                    margin: configuration.ikeRekeyMarginSeconds,
                                                    jitter: configuration.ikeRekeyJitterSeconds))
    }

    /// How long a replaced or redundant IKE SA is kept for its Delete: the peer's whole
    /// retransmission schedule plus a little, so memory and routes stay bounded.
    var sideLingerSeconds: Double {
        let p = configuration.retransmission
        return (0...max(0, p.tries)).reduce(10) { $0 + p.interval(afterAttempt: $1) }
    }

    // MARK: The current SA and the others

    func currentKeying() -> IKESAKeying? {
        guard let prf, let keys, let protection, let ikeAlgorithms else { return nil }
        return IKESAKeying(initiatorSPI: initiatorSPI, responderSPI: responderSPI, originalInitiator: isInitiator,
                           nonceI: nonceI, nonceR: nonceR, algorithms: ikeAlgorithms, prf: prf, keys: keys,
                           protection: protection)
    }

    /// §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF, then
    /// SK_* = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) with the new SA's PRF.
    private func rekeyedKeying(from old: IKESAKeying, _ chosen: IKESelectedAlgorithms, shared: SecureBytes,
                               nonceI: [UInt8], nonceR: [UInt8], spiI: IKESPI, spiR: IKESPI,
                               originalInitiator: Bool) throws -> IKESAKeying {
        let skeyseed = try IKEKeySchedule.rekeyedSKEYSEED(prf: old.prf, oldSKd: old.keys.skD, sharedSecret: shared,
                                                          nonceI: nonceI, nonceR: nonceR)
        let prf = try provider.makePRF(chosen.prf)
        let keys = try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: skeyseed, nonceI: nonceI, nonceR: nonceR,
                                                      spiI: spiI.rawValue, spiR: spiR.rawValue,
                                                      encryption: chosen.encryption, integrity: chosen.integrity)
        let protection = try IKEMessageProtection(provider: provider, algorithms: chosen, keys: keys,
                                                  isInitiator: originalInitiator)
        return IKESAKeying(initiatorSPI: spiI, responderSPI: spiR, originalInitiator: originalInitiator, nonceI: nonceI,
                           nonceR: nonceR, algorithms: chosen, prf: prf, keys: keys, protection: protection)
    }

    /// Makes `new` the current IKE SA. The Child SAs stay (they move with it, §2.18); the old
    /// SA becomes a `.replaced` side SA that we delete when we initiated the surviving rekey,
    /// and otherwise keep until the peer deletes it. Requests queued meanwhile go out on the new SA.
    private func switchTo(_ new: IKESideSA, deleteOld: Bool, now: IKEInstant) {
        guard let old = currentKeying() else { return }
        // §2.3: the old SA keeps its own window; our outstanding request stays with the session.
        var oldWindow = window
        oldWindow.outstanding = nil
        var replaced = IKESideSA(keying: old, purpose: .replaced, window: oldWindow, forgetAt: now.adding(seconds: sideLingerSeconds))
        let k = new.keying
        initiatorSPI = k.initiatorSPI
        responderSPI = k.responderSPI
        isInitiator = k.originalInitiator
        nonceI = k.nonceI
        nonceR = k.nonceR
        ikeAlgorithms = k.algorithms
        prf = k.prf
        keys = k.keys
        protection = k.protection
        window = IKEExchangeWindow(nextRequestID: new.window.nextRequestID, expectedPeerRequestID: new.window.expectedPeerRequestID,
                                   outstanding: window.outstanding, cachedResponse: new.window.cachedResponse)
        if deleteOld { sendSideDelete(&replaced, now: now) }
        addSide(replaced)
        scheduleIKERekey(now: now)
        emit(.ikeSARekeyed(initiatorSPI: k.initiatorSPI, responderSPI: k.responderSPI,
                           proposal: k.algorithms.description, oldInitiatorSPI: old.initiatorSPI,
                           oldResponderSPI: old.responderSPI))
    }

    /// At most this many side SAs: a peer that rekeys the IKE SA as fast as it can must not make
    /// us keep one per rekey for the whole linger time.
    static let maxSideSAs = 8

    /// Adds a side SA; beyond `maxSideSAs` the oldest deleted ones are forgotten first.
    private func addSide(_ side: IKESideSA) {
        sides.append(side)
        while sides.count > Self.maxSideSAs, let oldest = sides.firstIndex(where: \.closed) ?? sides.indices.first {
            sides.remove(at: oldest)
        }
    }

    private func fresh(_ keying: IKESAKeying, _ purpose: IKESideSA.Purpose, now: IKEInstant) -> IKESideSA {
        IKESideSA(keying: keying, purpose: purpose, forgetAt: now.adding(seconds: sideLingerSeconds))
    }

    // MARK: Initiator

    func startIKERekey(now: IKEInstant) throws {
        // The group the SA already uses is the responder's likely choice (no INVALID_KE round).
        let groups = configuration.ikeProposals.flatMap(\.groups)
        guard let group = ikeAlgorithms.map(\.group).flatMap({ groups.contains($0) ? $0 : nil }) ?? groups.first else { return }
        let context = IKESARekeyContext(newSPI: try randomSPI(), nonce: try random.bytes(Self.nonceLength),
                                        keyExchange: try provider.makeKeyExchange(group, random: &random))
        try sendIKERekeyRequest(context, now: now)
    }

    private func sendIKERekeyRequest(_ context: IKESARekeyContext, now: IKEInstant) throws {
        let proposals = configuration.ikeProposals.enumerated().map {
            $1.wireProposal(number: UInt8(truncatingIfNeeded: $0 + 1), spi: context.newSPI.bytes)
        }
        let payloads: [IKEPayload] = [
            .securityAssociation(IKESecurityAssociation(proposals: proposals)),
            .nonce(IKENonce(data: context.nonce)),
            .keyExchange(IKEKeyExchange(group: context.keyExchange.group, data: context.keyExchange.publicValue)),
        ]
        let messageID = window.takeRequestID()
        let bytes = try sealed(header(.createChildSA, messageID: messageID, response: false), payloads)
        sendRequest(bytes, exchange: .createChildSA, messageID: messageID, now: now)
        activeTask = .rekeyIKE(context)
    }

    /// The new SA from the responder's answer, or nil when the answer is unacceptable.
    private func acceptIKERekeyResponse(_ inner: [IKEPayload], _ context: IKESARekeyContext,
                                        old: IKESAKeying) -> IKESAKeying? {
        let p = RekeyPayloads(inner)
        guard p.error == nil, let sa = p.sa, let proposal = sa.proposals.first, let peerSPI = IKESPI(bytes: proposal.spi),
              !peerSPI.isZero, let chosen = IKEProposalSelection.acceptIKE(ours: configuration.ikeProposals, chosen: sa.proposals),
              chosen.group == context.keyExchange.group, let nonceR = p.nonce, (16...256).contains(nonceR.count),
              let ke = p.ke, ke.group == chosen.group.transformID,
              let shared = try? context.keyExchange.sharedSecret(peerPublicValue: ke.data) else { return nil }
        return try? rekeyedKeying(from: old, chosen, shared: shared, nonceI: context.nonce, nonceR: nonceR,
                                  spiI: context.newSPI, spiR: peerSPI, originalInitiator: true)
    }

    func processIKERekeyResponse(_ message: IKEMessage, _ datagram: IKEDatagram, now: IKEInstant) throws {
        guard case .rekeyIKE(var context) = activeTask,
              let inner = openAuthenticated(message, datagram, now: now) else { return }
        window.outstanding = nil
        activeTask = nil
        defer { startNextTask(now: now) }
        if let error = RekeyPayloads(inner).error {
            // §1.3: the responder wants another group; retry with it if we offer it.
            if error.type == .invalidKEPayload, error.data.count == 2,
               let group = KeyExchangeGroup(rawValue: UInt16(error.data[0]) << 8 | UInt16(error.data[1])),
               configuration.ikeProposals.contains(where: { $0.groups.contains(group) }),
               context.invalidKERetries < Self.maxRekeyInvalidKERetries {
                context.invalidKERetries += 1
                context.keyExchange = try provider.makeKeyExchange(group, random: &random)
                try sendIKERekeyRequest(context, now: now)
                return
            }
            ikeRekeyFailed(now: now)
            return
        }
        guard let old = currentKeying(), let keying = acceptIKERekeyResponse(inner, context, old: old) else {
            ikeRekeyFailed(now: now)
            return
        }
        guard let c = sides.firstIndex(where: { $0.purpose == .candidate }) else {
            switchTo(fresh(keying, .replaced, now: now), deleteOld: true, now: now)
            return
        }
        // §2.8.2: both rekeys succeeded. The new SA with the lowest of the four nonces is
        // redundant and deleted by its creator; the other inherits the Child SAs, and its
        // creator deletes the old SA.
        if keying.lowestNonce.lexicographicallyPrecedes(sides[c].keying.lowestNonce) {
            let candidate = sides.remove(at: c)
            switchTo(candidate, deleteOld: false, now: now)
            var redundant = fresh(keying, .redundant, now: now)
            sendSideDelete(&redundant, now: now)
            addSide(redundant)
        } else {
            sides[c].purpose = .redundant
            switchTo(fresh(keying, .replaced, now: now), deleteOld: true, now: now)
        }
    }

    /// Our rekey did not happen. If the peer's went through meanwhile (§2.8.2, or it finished
    /// first and answered ours TEMPORARY_FAILURE), its SA takes over and the peer deletes the
    /// old one; otherwise retry in 10–30 s (§2.25: TEMPORARY_FAILURE means "later").
    private func ikeRekeyFailed(now: IKEInstant) {
        if let c = sides.firstIndex(where: { $0.purpose == .candidate }) {
            let candidate = sides.remove(at: c)
            switchTo(candidate, deleteOld: false, now: now)
        } else {
            ikeRekeyAt = now.adding(seconds: 10 + 20 * randomFraction())
        }
    }

    // MARK: Responder

    func processIKERekeyRequest(_ inner: [IKEPayload], messageID: UInt32, _ datagram: IKEDatagram, now: IKEInstant) throws {
        func respond(_ payloads: [IKEPayload]) throws {
            let bytes = try sealed(header(.createChildSA, messageID: messageID, response: true), payloads)
            sendResponse(bytes, to: datagram, messageID: messageID)
        }
        var ourRekeyInFlight = false
        if case .rekeyIKE = activeTask { ourRekeyInFlight = true }
        // §2.25: not while another exchange of ours is in flight (a Child SA rekey keyed from the
        // old SK_d, a Delete): the peer retries later.
        if window.outstanding != nil && !ourRekeyInFlight || sides.contains(where: { $0.purpose == .candidate }) {
            try respond([.notify(IKENotify(type: .temporaryFailure))])
            return
        }
        let p = RekeyPayloads(inner)
        guard let sa = p.sa, let nonceI = p.nonce, (16...256).contains(nonceI.count), let ke = p.ke else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            return
        }
        guard let (chosen, number) = IKEProposalSelection.selectIKE(ours: configuration.ikeProposals, offered: sa.proposals) else {
            try respond([.notify(IKENotify(type: .noProposalChosen))])
            return
        }
        guard let proposal = sa.proposals.first(where: { $0.number == number && $0.protocolID == .ike }),
              let peerSPI = IKESPI(bytes: proposal.spi), !peerSPI.isZero else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            return
        }
        guard ke.group == chosen.group.transformID else {
            try respond([.notify(IKENotify(type: .invalidKEPayload, data: IKEWire.bytes(chosen.group.transformID)))])
            return
        }
        let mine = try provider.makeKeyExchange(chosen.group, random: &random)
        guard let shared = try? mine.sharedSecret(peerPublicValue: ke.data), let old = currentKeying() else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            return
        }
        let nonceR = try random.bytes(Self.nonceLength)
        let ourSPI = try randomSPI()
        let keying = try rekeyedKeying(from: old, chosen, shared: shared, nonceI: nonceI, nonceR: nonceR, spiI: peerSPI,
                                       spiR: ourSPI, originalInitiator: false)
        try respond([
            .securityAssociation(IKESecurityAssociation(proposals: [chosen.asSet.wireProposal(number: number, spi: ourSPI.bytes)])),
            .nonce(IKENonce(data: nonceR)),
            .keyExchange(IKEKeyExchange(group: mine.group, data: mine.publicValue)),
        ])
        if ourRekeyInFlight {
            // §2.8.2: a collision; decided when our own answer arrives.
            addSide(fresh(keying, .candidate, now: now))
        } else {
            // The rekey initiator deletes the old SA; until then it answers only from its cache.
            switchTo(fresh(keying, .replaced, now: now), deleteOld: false, now: now)
        }
    }

    /// §2.25.2: a rekey of an IKE SA we are deleting is answered TEMPORARY_FAILURE.
    func refuseWhileDeleting(_ message: IKEMessage, _ datagram: IKEDatagram, now: IKEInstant) throws {
        guard openAuthenticated(message, datagram, now: now) != nil else { return }
        let messageID = message.header.messageID
        let bytes = try sealed(header(.createChildSA, messageID: messageID, response: true),
                               [.notify(IKENotify(type: .temporaryFailure))])
        sendResponse(bytes, to: datagram, messageID: messageID)
    }

    /// §2.8.2: the peer deletes the old SA while our rekey is in flight and we answered its
    /// rekey: the peer's new SA takes over (it won, or it finished before it saw ours). Our
    /// request's answer may still come on the old SA; if it creates an SA, that one is
    /// redundant and we delete it. Returns false when there was no such collision.
    func adoptCandidateOnDelete(now: IKEInstant) -> Bool {
        guard let c = sides.firstIndex(where: { $0.purpose == .candidate }) else { return false }
        let candidate = sides.remove(at: c)
        var pending: IKESARekeyContext?
        if case .rekeyIKE(let context) = activeTask { pending = context }
        let request = window.outstanding
        window.outstanding = nil
        activeTask = nil
        switchTo(candidate, deleteOld: false, now: now)
        if let last = sides.indices.last {
            sides[last].closed = true
            sides[last].rekey = pending
            sides[last].window.outstanding = pending == nil ? nil : request
        }
        startNextTask(now: now)
        return true
    }

    // MARK: Side SAs (replaced, redundant, candidate)

    private func sideHeader(_ side: IKESideSA, _ exchange: IKEExchangeType, messageID: UInt32, response: Bool) -> IKEHeader {
        var flags: IKEHeader.Flags = response ? [.response] : []
        if side.keying.originalInitiator { flags.insert(.initiator) }
        return IKEHeader(initiatorSPI: side.keying.initiatorSPI, responderSPI: side.keying.responderSPI,
                         exchangeType: exchange, flags: flags, messageID: messageID)
    }

    /// HDR(side), SK {D(IKE)}, retransmitted on the side SA's own window.
    private func sendSideDelete(_ side: inout IKESideSA, now: IKEInstant) {
        let messageID = side.window.takeRequestID()
        guard let bytes = try? side.keying.protection.seal(
            header: sideHeader(side, .informational, messageID: messageID, response: false),
            payloads: [.delete(.ikeSA)], random: &random) else { return }
        let datagram = IKEDatagram(bytes: bytes, source: local, destination: peer)
        side.window.outstanding = IKEOutstandingRequest(exchange: .informational, messageID: messageID, datagram: datagram,
                                                 retransmissions: 0, deadline: now.adding(seconds: retransmissionInterval(0)),
                                                 firstSent: now)
        transmitQueue.append(datagram)
    }

    func receiveOnSide(_ i: Int, _ header: IKEHeader, _ datagram: IKEDatagram, now: IKEInstant) {
        guard !state.isTerminal, header.isInitiator != sides[i].keying.originalInitiator else { return }
        if header.isResponse {
            sideResponse(i, header, datagram, now: now)
            return
        }
        if let cached = sides[i].window.cachedResponse, header.messageID == cached.messageID {
            // §2.1: e.g. the rekey request whose answer was lost, retransmitted on the old SA.
            if cached.request == datagram.bytes {
                transmitQueue.append(IKEDatagram(bytes: cached.response, source: datagram.destination, destination: datagram.source))
            }
            return
        }
        guard !sides[i].closed, header.messageID == sides[i].window.expectedPeerRequestID,
              let message = try? IKEMessage(decoding: datagram.bytes), let sk = message.encryptedPayload,
              let inner = try? sides[i].keying.protection.open(raw: datagram.bytes, sk: sk) else { return }
        noteInboundTraffic(now: now)
        let answer: [IKEPayload]
        var removed: [ESPSPI] = []
        switch header.exchangeType {
        case .informational:
            // A Delete of Child SAs sent on the replaced SA still means them (they moved, §2.18).
            let (ours, gone) = sides[i].purpose == .replaced ? childDeletes(in: inner) : ([], [])
            answer = ours.isEmpty ? [] : [.delete(.childSAs(ours))]
            removed = gone
        // §2.25.2: an IKE SA being closed is not rekeyed, nor are its Child SAs (they moved).
        case .createChildSA: answer = [.notify(IKENotify(type: .temporaryFailure))]
        default: return
        }
        guard let bytes = try? sides[i].keying.protection.seal(
            header: sideHeader(sides[i], header.exchangeType, messageID: header.messageID, response: true),
            payloads: answer, random: &random) else { return }
        sides[i].window.answered(header.messageID, request: datagram.bytes, response: bytes)
        transmitQueue.append(IKEDatagram(bytes: bytes, source: datagram.destination, destination: datagram.source))
        if !removed.isEmpty {
            removeDeletedChildren(removed)
            startNextTask(now: now)
        }
        let deletesIKE = inner.contains { if case .delete(let d) = $0 { d.protocolID == .ike } else { false } }
        guard deletesIKE else { return }
        sides[i].closed = true
        // §2.8.2: the peer deletes its own new SA: it lost the collision, ours survives.
        if sides[i].purpose == .candidate { sides[i].purpose = .redundant }
    }

    private func sideResponse(_ i: Int, _ header: IKEHeader, _ datagram: IKEDatagram, now: IKEInstant) {
        guard let request = sides[i].window.outstanding, header.messageID == request.messageID,
              header.exchangeType == request.exchange,
              let message = try? IKEMessage(decoding: datagram.bytes), let sk = message.encryptedPayload,
              let inner = try? sides[i].keying.protection.open(raw: datagram.bytes, sk: sk) else { return }
        noteInboundTraffic(now: now)
        sides[i].window.outstanding = nil
        if request.exchange == .createChildSA, let context = sides[i].rekey {
            sides[i].rekey = nil
            // The peer replaced this SA by its own rekey's; an SA our rekey made anyway is redundant.
            if let keying = acceptIKERekeyResponse(inner, context, old: sides[i].keying) {
                var redundant = fresh(keying, .redundant, now: now)
                sendSideDelete(&redundant, now: now)
                addSide(redundant)
            }
            return
        }
        sides.remove(at: i)  // our Delete was answered
    }

    /// Retransmits side SAs' requests (§2.1) and forgets side SAs whose time is up; a side SA
    /// whose Delete goes unanswered is simply dropped (the IKE SA that matters is the current one).
    func sideTimers(now: IKEInstant) {
        var i = 0
        while i < sides.count {
            if var request = sides[i].window.outstanding, now >= request.deadline {
                if request.retransmissions >= configuration.retransmission.tries {
                    sides[i].window.outstanding = nil
                    sides[i].rekey = nil
                    if request.exchange == .informational {
                        sides.remove(at: i)
                        continue
                    }
                } else {
                    request.retransmissions += 1
                    request.deadline = now.adding(seconds: retransmissionInterval(request.retransmissions))
                    sides[i].window.outstanding = request
                    transmitQueue.append(request.datagram)
                }
            }
            if sides[i].window.outstanding == nil, sides[i].forgetAt <= now {
                sides.remove(at: i)
                continue
            }
            i += 1
        }
    }

    var sideDeadline: IKEInstant? {
        sides.map { $0.window.outstanding?.deadline ?? $0.forgetAt }.min()
    }
}
