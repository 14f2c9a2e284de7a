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

extension IKESAKeying {
    /// §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF, then
    /// SK_* = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) with the new SA's PRF.
    init(rekeying old: IKESAKeying, _ chosen: IKESelectedAlgorithms, shared: SecureBytes, nonceI: [UInt8],
         nonceR: [UInt8], spiI: IKESPI, spiR: IKESPI, originalInitiator: Bool, provider: any CryptoProvider) throws {
        let skeyseed = try IKEKeySchedule.rekeyedSKEYSEED(prf: old.prf, oldSKd: old.keys.skD, sharedSecret: shared,
                                                          nonceI: nonceI, nonceR: nonceR)
        let prf = try provider.makePRF(chosen.prf)
        let keys = try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: skeyseed, nonceI: nonceI, nonceR: nonceR,
                                                      spiI: spiI.rawValue, spiR: spiR.rawValue,
                                                      encryption: chosen.encryption, integrity: chosen.integrity)
        let protection = try IKEMessageProtection(provider: provider, algorithms: chosen, keys: keys,
                                                  isInitiator: originalInitiator)
        self.init(initiatorSPI: spiI, responderSPI: spiR, originalInitiator: originalInitiator, nonceI: nonceI,
                  nonceR: nonceR, algorithms: chosen, prf: prf, keys: keys, protection: protection)
    }

    /// The new SA from the responder's answer to our rekey of `old`, or nil when the answer is
    /// unacceptable (an error, a proposal we did not offer, another group, a bad nonce or KE).
    init?(rekeyResponse inner: [IKEPayload], _ context: IKESARekeyContext, old: IKESAKeying,
          proposals: [IKEAlgorithmSet], provider: any CryptoProvider) {
        let p = CreateChildPayloads(inner)
        guard p.error == nil, let sa = p.sa, let proposal = sa.proposals.first, let peerSPI = IKESPI(bytes: proposal.spi),
              !peerSPI.isZero, let chosen = IKEProposalSelection.acceptIKE(ours: proposals.map(\.withoutAdditional), chosen: sa.proposals),
              chosen.group == context.keyExchange.group, let nonceR = p.nonce, (16...256).contains(nonceR.count),
              let ke = p.ke, ke.group == chosen.group.transformID,
              let shared = try? context.keyExchange.sharedSecret(peerPublicValue: ke.data),
              let keying = try? IKESAKeying(rekeying: old, chosen, shared: shared, nonceI: context.nonce, nonceR: nonceR,
                                            spiI: context.newSPI, spiR: peerSPI, originalInitiator: true, provider: provider)
        else { return nil }
        self = keying
    }
}

extension IKESession {
    /// A CREATE_CHILD_SA request is an IKE SA rekey when its SA payload proposes protocol IKE
    /// (§1.3.2: no REKEY_SA notify there, the proposal SPI is the initiator's new SPI).
    static func isIKERekeyRequest(_ payloads: [IKEPayload]) -> Bool {
        payloads.contains { if case .securityAssociation(let s) = $0 { s.proposals.contains { $0.protocolID == .ike } } else { false } }
    }

    /// §2.18: the soft lifetime of the IKE SA, with jitter so that many tunnels spread out.
    func scheduleIKERekey(_ up: inout IKEEstablishedSA, now: IKEInstant) {
        up.ikeRekeyAt = now.adding(seconds: rekeyDelay(lifetime: configuration.ikeLifetimeSeconds,
                                                    margin: configuration.ikeRekeyMarginSeconds,
                                                    jitter: configuration.ikeRekeyJitterSeconds))
    }

    // MARK: The current SA and the others

    func currentKeying() -> IKESAKeying? {
        guard let prf, let keys, let protection, let ikeAlgorithms else { return nil }
        return IKESAKeying(initiatorSPI: initiatorSPI, responderSPI: responderSPI, originalInitiator: isInitiator,
                           nonceI: nonceI, nonceR: nonceR, algorithms: ikeAlgorithms, prf: prf, keys: keys,
                           protection: protection)
    }

    /// A side SA of this tunnel with its own randomness, lingering from `now`.
    func side(_ keying: IKESAKeying, _ purpose: IKESideSA.Purpose, window: IKEExchangeWindow = IKEExchangeWindow(),
              now: IKEInstant) -> IKESideSA {
        IKESideSA(keying: keying, purpose: purpose, window: window, now: now, local: local, peer: peer,
                  configuration: configuration, provider: provider, random: random.split())
    }

    /// Hands an SA this session no longer uses to the endpoint (`pollRetired`).
    func retire(_ side: IKESideSA) { retiredQueue.append(side) }

    /// Makes `new` (with the message IDs and cache it has so far) the current IKE SA and returns
    /// the old one as a `.replaced` side SA, which the caller retires; it carries our Delete when
    /// we initiated the surviving rekey, and otherwise waits for the peer's. The Child SAs stay
    /// (they move with the IKE SA, §2.18); requests queued meanwhile go out on the new SA.
    private func switchTo(_ new: IKESAKeying, window newWindow: IKEExchangeWindow = IKEExchangeWindow(), deleteOld: Bool,
                          _ up: inout IKEEstablishedSA, now: IKEInstant) -> IKESideSA? {
        guard let old = currentKeying() else { return nil }
        // §2.3: the old SA keeps its own window; our outstanding request stays with the session.
        var oldWindow = window
        oldWindow.outstanding = nil
        var replaced = side(old, .replaced, window: oldWindow, now: now)
        initiatorSPI = new.initiatorSPI
        responderSPI = new.responderSPI
        isInitiator = new.originalInitiator
        nonceI = new.nonceI
        nonceR = new.nonceR
        ikeAlgorithms = new.algorithms
        prf = new.prf
        keys = new.keys
        protection = new.protection
        window = IKEExchangeWindow(nextRequestID: newWindow.nextRequestID, expectedPeerRequestID: newWindow.expectedPeerRequestID,
                                   outstanding: window.outstanding, cachedResponse: newWindow.cachedResponse)
        if deleteOld { replaced.sendDelete(now: now) }
        scheduleIKERekey(&up, now: now)
        emit(.ikeSARekeyed(initiatorSPI: new.initiatorSPI, responderSPI: new.responderSPI,
                           proposal: new.algorithms.description, oldInitiatorSPI: old.initiatorSPI,
                           oldResponderSPI: old.responderSPI))
        return replaced
    }

    /// Adopts the peer's candidate as the current SA (§2.8.2) and retires the old one.
    private func switchToCandidate(_ c: IKESideSA, _ up: inout IKEEstablishedSA, now: IKEInstant) {
        up.candidate = nil
        if let replaced = switchTo(c.keying, window: c.window, deleteOld: false, &up, now: now) { retire(replaced) }
    }

    // MARK: Initiator

    func startIKERekey(_ up: inout IKEEstablishedSA, now: IKEInstant) throws {
        // The group the SA already uses is the responder's likely choice (no INVALID_KE round).
        let groups = configuration.ikeProposals.flatMap(\.groups)
        guard let group = ikeAlgorithms.map(\.group).flatMap({ groups.contains($0) ? $0 : nil }) ?? groups.first else { return }
        let context = IKESARekeyContext(newSPI: try randomSPI(), nonce: try random.bytes(Self.nonceLength),
                                        keyExchange: try provider.makeKeyExchange(group, random: &random))
        try sendIKERekeyRequest(context, &up, now: now)
    }

    private func sendIKERekeyRequest(_ context: IKESARekeyContext, _ up: inout IKEEstablishedSA, now: IKEInstant) throws {
        let proposals = configuration.ikeProposals.enumerated().map {
            $1.wireProposal(number: UInt8(truncatingIfNeeded: $0 + 1), spi: context.newSPI.bytes, withAdditional: false)
        }
        let payloads: [IKEPayload] = [
            .securityAssociation(IKESecurityAssociation(proposals: proposals)),
            .nonce(IKENonce(data: context.nonce)),
            .keyExchange(IKEKeyExchange(group: context.keyExchange.group, data: context.keyExchange.publicValue)),
        ]
        let messageID = window.takeRequestID()
        let bytes = try sealed(header(.createChildSA, messageID: messageID, response: false), payloads)
        sendRequest(bytes, exchange: .createChildSA, messageID: messageID, now: now)
        up.activeTask = .rekeyIKE(context)
    }

    func processIKERekeyResponse(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                                 now: IKEInstant) throws {
        guard case .rekeyIKE(var context) = up.activeTask,
              let inner = openAuthenticated(message, datagram, &up, now: now) else { return }
        window.outstanding = nil
        up.activeTask = nil
        defer { startNextTask(&up, now: now) }
        if let error = CreateChildPayloads(inner).error {
            // §1.3: the responder wants another group; retry with it if we offer it.
            if error.type == .invalidKEPayload, error.data.count == 2,
               let group = KeyExchangeGroup(rawValue: UInt16(error.data[0]) << 8 | UInt16(error.data[1])),
               configuration.ikeProposals.contains(where: { $0.groups.contains(group) }),
               context.invalidKERetries < Self.maxRekeyInvalidKERetries {
                context.invalidKERetries += 1
                context.keyExchange = try provider.makeKeyExchange(group, random: &random)
                try sendIKERekeyRequest(context, &up, now: now)
                return
            }
            ikeRekeyFailed(&up, now: now)
            return
        }
        guard let old = currentKeying(),
              let keying = IKESAKeying(rekeyResponse: inner, context, old: old, proposals: configuration.ikeProposals,
                                       provider: provider) else {
            ikeRekeyFailed(&up, now: now)
            return
        }
        guard var c = up.candidate else {
            if let replaced = switchTo(keying, deleteOld: true, &up, now: now) { retire(replaced) }
            return
        }
        // §2.8.2: both rekeys succeeded. The new SA with the lowest of the four nonces is
        // redundant and deleted by its creator; the other inherits the Child SAs, and its
        // creator deletes the old SA.
        if keying.lowestNonce.lexicographicallyPrecedes(c.keying.lowestNonce) {
            switchToCandidate(c, &up, now: now)
            var redundant = side(keying, .redundant, now: now)
            redundant.sendDelete(now: now)
            retire(redundant)
        } else {
            c.purpose = .redundant
            up.candidate = nil
            retire(c)
            if let replaced = switchTo(keying, deleteOld: true, &up, now: now) { retire(replaced) }
        }
    }

    /// Our rekey did not happen. If the peer's went through meanwhile (§2.8.2, or it finished
    /// first and answered ours TEMPORARY_FAILURE), its SA takes over and the peer deletes the
    /// old one; otherwise retry in 10–30 s (§2.25: TEMPORARY_FAILURE means "later").
    private func ikeRekeyFailed(_ up: inout IKEEstablishedSA, now: IKEInstant) {
        if let c = up.candidate {
            switchToCandidate(c, &up, now: now)
        } else {
            up.ikeRekeyAt = now.adding(seconds: 10 + 20 * randomFraction())
        }
    }

    // MARK: Responder

    func processIKERekeyRequest(_ inner: [IKEPayload], messageID: UInt32, _ datagram: IKEDatagram,
                                _ up: inout IKEEstablishedSA, now: IKEInstant) throws {
        func respond(_ payloads: [IKEPayload]) throws {
            let bytes = try sealed(header(.createChildSA, messageID: messageID, response: true), payloads)
            sendResponse(bytes, to: datagram, messageID: messageID)
        }
        var ourRekeyInFlight = false
        if case .rekeyIKE = up.activeTask { ourRekeyInFlight = true }
        // §2.25: not while another exchange of ours is in flight (a Child SA rekey keyed from the
        // old SK_d, a Delete): the peer retries later.
        if window.outstanding != nil && !ourRekeyInFlight || up.candidate != nil {
            try respond([.notify(IKENotify(type: .temporaryFailure))])
            return
        }
        let p = CreateChildPayloads(inner)
        guard let sa = p.sa, let nonceI = p.nonce, (16...256).contains(nonceI.count), let ke = p.ke else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            return
        }
        // RFC 9370 §2.2.4 would run the additional key exchanges in IKE_FOLLOWUP_KE; Viaduct rekeys
        // with one (the new keys still descend from SK_d, which they keyed), so a peer that
        // requires them in the rekey gets NO_PROPOSAL_CHOSEN.
        guard let (chosen, number) = IKEProposalSelection.selectIKE(ours: configuration.ikeProposals.map(\.withoutAdditional),
                                                                   offered: sa.proposals) else {
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
        guard let mine = try? provider.respondToKeyExchange(chosen.group, initiatorValue: ke.data, random: &random),
              let old = currentKeying() else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            return
        }
        let nonceR = try random.bytes(Self.nonceLength)
        let ourSPI = try randomSPI()
        let keying = try IKESAKeying(rekeying: old, chosen, shared: mine.sharedSecret, nonceI: nonceI, nonceR: nonceR, spiI: peerSPI,
                                     spiR: ourSPI, originalInitiator: false, provider: provider)
        try respond([
            .securityAssociation(IKESecurityAssociation(proposals: [chosen.asSet.wireProposal(number: number, spi: ourSPI.bytes)])),
            .nonce(IKENonce(data: nonceR)),
            .keyExchange(IKEKeyExchange(group: chosen.group, data: mine.value)),
        ])
        if ourRekeyInFlight {
            // §2.8.2: a collision; decided when our own answer arrives.
            up.candidate = side(keying, .candidate, now: now)
        } else {
            // The rekey initiator deletes the old SA; until then it answers only from its cache.
            if let replaced = switchTo(keying, deleteOld: false, &up, now: now) { retire(replaced) }
        }
    }

    /// §2.25.2: a rekey of an IKE SA we are deleting is answered TEMPORARY_FAILURE.
    func refuseWhileDeleting(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                             now: IKEInstant) throws {
        guard openAuthenticated(message, datagram, &up, now: now) != nil else { return }
        let messageID = message.header.messageID
        let bytes = try sealed(header(.createChildSA, messageID: messageID, response: true),
                               [.notify(IKENotify(type: .temporaryFailure))])
        sendResponse(bytes, to: datagram, messageID: messageID)
    }

    /// §2.8.2: the peer deletes the old SA while our rekey is in flight and we answered its
    /// rekey: the peer's new SA takes over (it won, or it finished before it saw ours). Our
    /// request's answer may still come on the old SA; if it creates an SA, that one is
    /// redundant and we delete it. Returns false when there was no such collision.
    func adoptCandidateOnDelete(_ up: inout IKEEstablishedSA, now: IKEInstant) -> Bool {
        guard let c = up.candidate else { return false }
        var pending: IKESARekeyContext?
        if case .rekeyIKE(let context) = up.activeTask { pending = context }
        let request = window.outstanding
        window.outstanding = nil
        up.activeTask = nil
        up.candidate = nil
        if var replaced = switchTo(c.keying, window: c.window, deleteOld: false, &up, now: now) {
            replaced.closed = true
            replaced.rekey = pending
            replaced.window.outstanding = pending == nil ? nil : request
            retire(replaced)
        }
        startNextTask(&up, now: now)
        return true
    }

    // MARK: The candidate (§2.8.2)

    /// The peer's request (or its Delete of the candidate) on its new SA while the collision is
    /// undecided; a candidate the peer deletes lost the collision and is retired as redundant.
    func receiveOnCandidate(_ datagram: IKEDatagram, header: IKEHeader, _ up: inout IKEEstablishedSA, now: IKEInstant) {
        guard var c = up.candidate, !state.isTerminal else { return }
        c.receive(datagram, header: header, now: now)
        absorb(&c, &up, now: now)
        if c.closed {
            c.purpose = .redundant
            up.candidate = nil
            retire(c)
        } else {
            up.candidate = c
        }
    }

    func candidateTimers(_ up: inout IKEEstablishedSA, now: IKEInstant) {
        guard var c = up.candidate, let d = c.nextDeadline, d <= now else { return }
        c.timeout(now: now)
        absorb(&c, &up, now: now)
        up.candidate = c.nextDeadline == nil ? nil : c
    }

    /// What the candidate sends goes out with the session's datagrams; it relays nothing but
    /// the peer's activity (Child SA Deletes concern only a replaced SA).
    private func absorb(_ c: inout IKESideSA, _ up: inout IKEEstablishedSA, now: IKEInstant) {
        while let d = c.pollTransmit() { transmitQueue.append(d) }
        while let relay = c.pollRelay() { _ = relayed(relay, &up, now: now) }
        while let r = c.pollRetired() { retire(r) }
    }
}
