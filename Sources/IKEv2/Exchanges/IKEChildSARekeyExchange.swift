// RFC 7296 §1.3.1 (creating a new Child SA with CREATE_CHILD_SA: the responder side),
// §1.3.3 (rekeying Child SAs with CREATE_CHILD_SA), §2.8 (rekeying, make-before-break),
// §2.8.1 (simultaneous rekeying: the lowest nonce loses), §2.17 (KEYMAT with g^ir (new) for
// PFS), §2.25 / §2.25.1 (TEMPORARY_FAILURE, CHILD_SA_NOT_FOUND, collisions with a Delete):
//
//   Initiator                         Responder
//   HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr}  -->
//                                <--  HDR, SK {SA, Nr, [KEr,] TSi, TSr}
//   HDR, SK {D(old)}  -->
//                                <--  HDR, SK {D(old)}
//
// A new Child SA (§1.3.1) is the same exchange without N(REKEY_SA) and without the Deletes.
import CryptoCore
import NetTypes

/// The payloads of a CREATE_CHILD_SA message the exchanges look at (Child SA creation and rekey,
/// IKE SA rekey).
struct CreateChildPayloads {
    var sa: IKESecurityAssociation?
    var nonce: [UInt8]?
    var ke: IKEKeyExchange?
    var tsI: [IKETrafficSelector]?
    var tsR: [IKETrafficSelector]?
    var notifies: [IKENotify] = []

    init(_ payloads: [IKEPayload]) {
        for p in payloads {
            switch p {
            case .securityAssociation(let s): sa = s
            case .nonce(let n): nonce = n.data
            case .keyExchange(let k): ke = k
            case .trafficSelectorInitiator(let t): tsI = t.selectors
            case .trafficSelectorResponder(let t): tsR = t.selectors
            case .notify(let n): notifies.append(n)
            default: break
            }
        }
    }

    var error: IKENotify? { notifies.first { $0.type.rawValue < 16384 } }
}

extension IKESession {
    static let maxRekeyInvalidKERetries = 3

    /// §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) with this exchange's nonces; the
    /// exchange initiator's keys protect initiator -> responder traffic.
    /// A new Child SA (`replaces` nil) sends on its outbound half at once: nothing else does.
    private func rekeyedChild(_ esp: ESPSelectedAlgorithms, inbound: ESPSPI, outbound: ESPSPI, shared: SecureBytes?,
                              nonceI: [UInt8], nonceR: [UInt8], exchangeInitiator: Bool, replaces: ESPSPI?) throws -> ChildSAParameters {
        guard let prf, let keys else { throw IKEProtectionError(message: "no IKE SA keys") }
        let keymat = try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: keys.skD, sharedSecret: shared, nonceI: nonceI,
                                                          nonceR: nonceR, encryption: esp.encryption, integrity: esp.integrity)
        let (out, inb) = keymat.directions(isInitiator: exchangeInitiator)
        return ChildSAParameters(
            inboundSPI: inbound, outboundSPI: outbound, encryption: esp.encryption, integrity: esp.integrity,
            extendedSequenceNumbers: esp.esn, inboundEncryptionKey: inb.encryption, outboundEncryptionKey: out.encryption,
            inboundIntegrityKey: inb.integrity, outboundIntegrityKey: out.integrity, local: local, peer: peer,
            udpEncapsulation: natDetected, lifetimeSeconds: configuration.childLifetimeSeconds,
            activateOutbound: exchangeInitiator || replaces == nil, replacesInboundSPI: replaces)
    }

    // MARK: Initiator

    func startChildRekey(_ oldInbound: ESPSPI, _ up: inout IKEEstablishedSA, now: IKEInstant) throws {
        let group = configuration.espProposals.first?.groups.first
        let ke = try group.map { g throws(CryptoError) in try provider.makeKeyExchange(g, random: &random) }
        let context = IKEChildRekeyContext(oldInboundSPI: oldInbound, newInboundSPI: try randomESPSPI(),
                                           nonce: try random.bytes(Self.nonceLength), keyExchange: ke)
        try sendChildRekeyRequest(context, &up, now: now)
    }

    private func sendChildRekeyRequest(_ context: IKEChildRekeyContext, _ up: inout IKEEstablishedSA,
                                       now: IKEInstant) throws {
        var payloads: [IKEPayload] = [
            .notify(IKENotify(protocolID: .esp, spi: IKEWire.bytes(context.oldInboundSPI), type: .rekeySA)),
        ]
        let proposals = configuration.espProposals.enumerated().map {
            $1.wireProposal(number: UInt8(truncatingIfNeeded: $0 + 1), spi: context.newInboundSPI, withGroups: true)
        }
        payloads.append(.securityAssociation(IKESecurityAssociation(proposals: proposals)))
        payloads.append(.nonce(IKENonce(data: context.nonce)))
        if let ke = context.keyExchange { payloads.append(.keyExchange(IKEKeyExchange(group: ke.group, data: ke.publicValue))) }
        payloads.append(.trafficSelectorInitiator(IKETrafficSelectors(configuration.localTrafficSelectors)))
        payloads.append(.trafficSelectorResponder(IKETrafficSelectors(configuration.remoteTrafficSelectors)))
        let messageID = window.takeRequestID()
        let bytes = try sealed(header(.createChildSA, messageID: messageID, response: false), payloads)
        sendRequest(bytes, exchange: .createChildSA, messageID: messageID, now: now)
        up.activeTask = .rekeyChild(context)
    }

    func processChildRekeyResponse(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                                   now: IKEInstant) throws {
        guard case .rekeyChild(var context) = up.activeTask,
              let inner = openAuthenticated(message, datagram, &up, now: now) else { return }
        window.outstanding = nil
        up.activeTask = nil
        defer { startNextTask(&up, now: now) }
        let p = CreateChildPayloads(inner)
        if let error = p.error {
            // §1.3: the responder wants another PFS group; retry with it if we offer it.
            if error.type == .invalidKEPayload, error.data.count == 2,
               let group = KeyExchangeGroup(rawValue: UInt16(error.data[0]) << 8 | UInt16(error.data[1])),
               configuration.espProposals.contains(where: { $0.groups.contains(group) }),
               context.invalidKERetries < Self.maxRekeyInvalidKERetries, !context.oldDeleted {
                context.invalidKERetries += 1
                context.keyExchange = try provider.makeKeyExchange(group, random: &random)
                try sendChildRekeyRequest(context, &up, now: now)
                return
            }
            rekeyFailed(context, &up, now: now)
            return
        }
        guard let sa = p.sa, let nonceR = p.nonce, (16...256).contains(nonceR.count), let tsI = p.tsI, let tsR = p.tsR,
              let (esp, outbound) = IKEProposalSelection.acceptESPRekey(ours: configuration.espProposals, chosen: sa.proposals),
              esp.group == context.keyExchange?.group,
              IKETrafficSelectorNarrowing.isNarrowing(tsI, of: configuration.localTrafficSelectors),
              IKETrafficSelectorNarrowing.isNarrowing(tsR, of: configuration.remoteTrafficSelectors) else {
            rekeyFailed(context, &up, now: now)
            return
        }
        var shared: SecureBytes?
        if let ke = context.keyExchange {
            guard let peerKE = p.ke, peerKE.group == ke.group.transformID,
                  let s = try? ke.sharedSecret(peerPublicValue: peerKE.data) else {
                rekeyFailed(context, &up, now: now)
                return
            }
            shared = s
        }
        var child = try rekeyedChild(esp, inbound: context.newInboundSPI, outbound: outbound, shared: shared,
                                     nonceI: context.nonce, nonceR: nonceR, exchangeInitiator: true,
                                     replaces: context.oldInboundSPI)
        let old = context.oldInboundSPI
        if let collision = context.collision {
            // §2.8.1: the SA created with the lowest of the four nonces is redundant and closed
            // by whoever created it; the other side's creator deletes the old SA.
            let lowest = [context.nonce, nonceR, collision.nonceI, collision.nonceR].min { $0.lexicographicallyPrecedes($1) } ?? []
            if lowest == context.nonce || lowest == nonceR {
                child.activateOutbound = false
                addChild(child, to: &up, now: now, phase: .deleting)
                up.enqueue(.deleteChildren([child.inboundSPI]))
                if let i = up.childIndex(inbound: old) {
                    up.children[i].phase = .replaced
                    up.children[i].successor = collision.newInboundSPI
                }
            } else {
                addChild(child, to: &up, now: now)
                if let i = up.childIndex(inbound: collision.newInboundSPI) { up.children[i].phase = .redundant }
                replaceOld(old, by: child.inboundSPI, &up)
            }
        } else {
            addChild(child, to: &up, now: now)
            replaceOld(old, by: child.inboundSPI, &up)
        }
    }

    /// §2.8: the rekey initiator deletes the old SA once the new one is installed.
    private func replaceOld(_ old: ESPSPI, by new: ESPSPI, _ up: inout IKEEstablishedSA) {
        guard let i = up.childIndex(inbound: old) else { return }
        up.children[i].successor = new
        if up.children[i].phase != .deleting {
            up.children[i].phase = .deleting
            up.enqueue(.deleteChildren([old]))
        }
    }

    /// The rekey did not happen (error notify, unacceptable answer). After a collision the
    /// peer's new SA takes over; otherwise retry later, before the hard lifetime (§2.25:
    /// TEMPORARY_FAILURE means "try again later").
    private func rekeyFailed(_ context: IKEChildRekeyContext, _ up: inout IKEEstablishedSA, now: IKEInstant) {
        guard let i = up.childIndex(inbound: context.oldInboundSPI) else { return }
        if let collision = context.collision {
            up.children[i].phase = .replaced
            up.children[i].successor = collision.newInboundSPI
        } else if up.children[i].phase == .rekeying {
            up.children[i].phase = .installed
            up.children[i].rekeyAt = now.adding(seconds: 10 + 20 * randomFraction())
        }
    }

    // MARK: Responder

    func processCreateChildSARequest(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                                     now: IKEInstant) throws {
        guard let inner = openAuthenticated(message, datagram, &up, now: now) else { return }
        let messageID = message.header.messageID
        func respond(_ payloads: [IKEPayload]) throws {
            let bytes = try sealed(header(.createChildSA, messageID: messageID, response: true), payloads)
            sendResponse(bytes, to: datagram, messageID: messageID)
        }
        let p = CreateChildPayloads(inner)
        let rekey = p.notifies.first { $0.type == .rekeySA && $0.protocolID == .esp }
        if rekey == nil, Self.isIKERekeyRequest(inner) {
            try processIKERekeyRequest(inner, messageID: messageID, datagram, &up, now: now)
            return
        }
        // §2.25: while our IKE SA rekey is in flight the Child SAs are about to move; later.
        if case .rekeyIKE = up.activeTask {
            try respond([.notify(IKENotify(type: .temporaryFailure))])
            return
        }
        // The Child SA this one replaces; nil for a new one (§1.3.1).
        let old: ESPSPI?
        if let rekey {
            guard let spi = rekey.espSPI, let index = up.children.firstIndex(where: { $0.outboundSPI == spi }) else {
                try respond([.notify(IKENotify(protocolID: .esp, spi: rekey.spi, type: .childSANotFound))])
                return
            }
            // §2.25.1: an SA we are deleting, or one already replaced, is not rekeyed again.
            guard [.installed, .rekeying].contains(up.children[index].phase) else {
                try respond([.notify(IKENotify(type: .temporaryFailure))])
                return
            }
            old = up.children[index].inboundSPI
        } else {
            // §1.3.1: a route-based tunnel carries one Child SA. A peer that deleted it and
            // creates it again inside this IKE SA (strongSwan's trap, DPD restart and close
            // actions do) gets it; a second one while one is installed is refused.
            if let live = up.children.first(where: { $0.phase != .deleting }) {
                let reason = "the tunnel has Child SA \(SPIText.child(live.inboundSPI))_i installed; a route-based tunnel carries one"
                emit(.childSARefused(reason: reason, notify: IKENotifyType.noAdditionalSAs.rawValue))
                try respond([.notify(IKENotify(type: .noAdditionalSAs))])
                return
            }
            if p.notifies.contains(where: { $0.type == .useTransportMode }) {
                emit(.childSARefused(reason: "the peer asked for transport mode; Viaduct only runs tunnel mode",
                                     notify: IKENotifyType.noProposalChosen.rawValue))
                try respond([.notify(IKENotify(type: .noProposalChosen))])
                return
            }
            old = nil
        }
        guard let sa = p.sa, let nonceI = p.nonce, (16...256).contains(nonceI.count), let tsI = p.tsI, let tsR = p.tsR else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            return
        }
        guard let (esp, number, outbound) = IKEProposalSelection.selectESPRekey(ours: configuration.espProposals, offered: sa.proposals) else {
            try respond([.notify(IKENotify(type: .noProposalChosen))])
            return
        }
        var ourKE: IKEKeyExchange?
        var shared: SecureBytes?
        if let group = esp.group {
            guard let ke = p.ke, ke.group == group.transformID else {
                try respond([.notify(IKENotify(type: .invalidKEPayload, data: IKEWire.bytes(group.transformID)))])
                return
            }
            guard let mine = try? provider.respondToKeyExchange(group, initiatorValue: ke.data, random: &random) else {
                try respond([.notify(IKENotify(type: .invalidSyntax))])
                return
            }
            ourKE = IKEKeyExchange(group: group, data: mine.value)
            shared = mine.sharedSecret
        }
        let narrowedI = IKETrafficSelectorNarrowing.narrow(proposed: tsI, configured: configuration.remoteTrafficSelectors)
        let narrowedR = IKETrafficSelectorNarrowing.narrow(proposed: tsR, configured: configuration.localTrafficSelectors)
        guard !narrowedI.isEmpty, !narrowedR.isEmpty else {
            try respond([.notify(IKENotify(type: .tsUnacceptable))])
            return
        }
        let nonceR = try random.bytes(Self.nonceLength)
        let inbound = try randomESPSPI()
        let child = try rekeyedChild(esp, inbound: inbound, outbound: outbound, shared: shared, nonceI: nonceI,
                                     nonceR: nonceR, exchangeInitiator: false, replaces: old)
        var payloads: [IKEPayload] = [
            .securityAssociation(IKESecurityAssociation(proposals: [esp.asSet.wireProposal(number: number, spi: inbound, withGroups: true)])),
            .nonce(IKENonce(data: nonceR)),
        ]
        if let ourKE { payloads.append(.keyExchange(ourKE)) }
        payloads.append(.trafficSelectorInitiator(IKETrafficSelectors(narrowedI)))
        payloads.append(.trafficSelectorResponder(IKETrafficSelectors(narrowedR)))
        try respond(payloads)
        // A rekey's SA is installed, but we keep sending on the old SA until the initiator
        // deletes it (§2.8); a new one carries the tunnel at once.
        addChild(child, to: &up, now: now)
        guard let old else { return }
        if case .rekeyChild(var context) = up.activeTask, context.oldInboundSPI == old {
            context.collision = IKEPeerRekey(newInboundSPI: inbound, nonceI: nonceI, nonceR: nonceR)
            up.activeTask = .rekeyChild(context)
        } else if let i = up.childIndex(inbound: old) {
            up.children[i].phase = .replaced
            up.children[i].successor = inbound
            up.pendingTasks.removeAll { $0 == .rekeyChild(old) }
        }
    }
}
