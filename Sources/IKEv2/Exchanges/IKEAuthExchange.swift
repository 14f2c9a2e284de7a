// RFC 7296 §1.2, §2.15 (AUTH: signatures, or a pre-shared key's MIC), §2.9 (traffic selectors), §2.17 (KEYMAT), §1.3.1 (tunnel mode):
//
//   Initiator                         Responder
//   HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr, N(INITIAL_CONTACT)}  -->
//                                <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
import CryptoCore
import NetTypes

extension IKESession {
    /// The pieces of an IKE_AUTH message the exchange looks at.
    private struct AuthPayloads {
        var idI: IKEIdentification?
        var idR: IKEIdentification?
        var certificates: [[UInt8]] = []
        var auth: IKEAuthentication?
        var sa: IKESecurityAssociation?
        var tsI: [IKETrafficSelector]?
        var tsR: [IKETrafficSelector]?
        var notifies: [IKENotify] = []
        var critical: UInt8?

        init(_ payloads: [IKEPayload]) {
            for p in payloads {
                switch p {
                case .identificationInitiator(let i): idI = i
                case .identificationResponder(let i): idR = i
                case .certificate(let c) where c.encoding == .x509Signature: certificates.append(c.data)
                case .authentication(let a): auth = a
                case .securityAssociation(let s): sa = s
                case .trafficSelectorInitiator(let t): tsI = t.selectors
                case .trafficSelectorResponder(let t): tsR = t.selectors
                case .notify(let n): notifies.append(n)
                default: break
                }
            }
            critical = IKEPayload.firstUnsupportedCritical(in: payloads)
        }
    }

    /// `peerSignatureHashes`: what the peer announced in IKE_SA_INIT (RFC 7427 §4), nil if nothing.
    /// `intermediate`: RFC 9242 §3.3.2's IntAuth, appended to the signed octets.
    private func ourAuthPayloads(nonce: [UInt8], initMessage: [UInt8], key: SecureBytes, intermediate: [UInt8],
                                 peerSignatureHashes: [UInt16]?) throws -> (IKEIdentification, [IKEPayload]) {
        guard let prf else { throw IKEProtectionError(message: "no PRF") }
        let id = IKEIdentification(configuration.localIdentity)
        let octets = try IKEAuthOctets.octets(message: initMessage, nonce: nonce, identification: id, prf: prf, key: key)
            + intermediate
        if let psk = configuration.preSharedKey {
            // §2.15: a MIC over the same octets with the shared key; no certificate goes out.
            let mic = try IKEAuthOctets.sharedKeyMIC(octets, preSharedKey: psk, prf: prf)
            return (id, [.authentication(IKEAuthentication(method: .sharedKeyMIC, data: mic.withUnsafeBytes { Array($0) }))])
        }
        let (method, data) = try authenticator.sign(octets, peerSupportedHashes: peerSignatureHashes)
        let certs = authenticator.certificateChainDER.map { IKEPayload.certificate(IKECertificate(encoding: .x509Signature, data: $0)) }
        return (id, certs + [.authentication(IKEAuthentication(method: IKEAuthMethod(rawValue: method), data: data))])
    }

    /// Verifies the peer's AUTH; on failure returns the failure (not yet reported).
    private func verifyPeer(_ p: AuthPayloads, id: IKEIdentification, initMessage: [UInt8], nonce: [UInt8], key: SecureBytes,
                            intermediate: [UInt8], now: IKEInstant) throws -> Result<String, IKEFailure> {
        if let expected = configuration.peerIdentity, !IKEIdentityText.matches(id, expected) {
            return .failure(IKEFailure(.identityMismatch, "peer \(peer) authenticated as \(IKEIdentityText.describe(id)), but the configured peer identity is \(IKEIdentityText.describe(expected))", notify: IKENotifyType.authenticationFailed.rawValue))
        }
        guard let auth = p.auth, let prf else {
            return .failure(IKEFailure(.invalidSyntax, "IKE_AUTH from \(peer) has no AUTH payload", notify: IKENotifyType.invalidSyntax.rawValue))
        }
        let octets = try IKEAuthOctets.octets(message: initMessage, nonce: nonce, identification: id, prf: prf, key: key)
            + intermediate
        if let psk = configuration.preSharedKey {
            let who = IKEIdentityText.describe(id)
            guard auth.method == .sharedKeyMIC else {
                return .failure(IKEFailure(.authenticationFailed, "peer \(peer) (\(who)) authenticated with method \(auth.method.rawValue), but this tunnel uses a pre-shared key (auth: psk, method 2)",
                                           notify: IKENotifyType.authenticationFailed.rawValue))
            }
            let expected = try IKEAuthOctets.sharedKeyMIC(octets, preSharedKey: psk, prf: prf)
            guard auth.data.withUnsafeBytes({ expected.constantTimeEquals($0) }) else {
                return .failure(IKEFailure(.authenticationFailed, "peer \(peer) (\(who)) proved a different pre-shared key: the psk-file of the two ends differ",
                                           notify: IKENotifyType.authenticationFailed.rawValue))
            }
            return .success(who)
        }
        do {
            return .success(try authenticator.verify(
                peerCertificateChainDER: p.certificates, claimedIdentityType: id.type.rawValue, claimedIdentityData: id.data,
                authMethod: auth.method.rawValue, authData: auth.data, octets: octets, now: wallClockSeconds(now)))
        } catch {
            let code: IKEFailure.Code = switch error.code {
            case .identityMismatch, .unsupportedIdentity: .identityMismatch
            case .certificateExpired, .certificateNotYetValid, .certificateUntrusted, .certificateRevoked,
                 .revocationUnavailable, .keyUsage, .malformedCertificate, .noCertificate: .certificateInvalid
            default: .authenticationFailed
            }
            return .failure(IKEFailure(code, "cannot authenticate peer \(peer) as \(IKEIdentityText.describe(id)): \(error.message) [\(error.code.rawValue)]",
                                       notify: IKENotifyType.authenticationFailed.rawValue))
        }
    }

    private func report(_ failure: IKEFailure) {
        fail(failure.code, failure.message, notify: failure.notify.map(IKENotifyType.init(rawValue:)), reportedByPeer: failure.reportedByPeer)
    }

    private func establishedEvent() -> IKEEvent {
        .ikeSAEstablished(initiatorSPI: initiatorSPI, responderSPI: responderSPI,
                          proposal: ikeAlgorithms?.description ?? "", peerIdentity: peerIdentityText ?? "",
                          local: local, peer: peer)
    }

    /// §2.17: KEYMAT = prf+(SK_d, Ni | Nr), initiator->responder keys first.
    private func childParameters(_ esp: ESPSelectedAlgorithms, inboundSPI: ESPSPI, outboundSPI: ESPSPI) throws -> ChildSAParameters {
        guard let prf, let keys else { throw IKEProtectionError(message: "no IKE SA keys") }
        let keymat = try IKEKeySchedule.deriveChildSAKeys(prf: prf, skD: keys.skD, sharedSecret: nil, nonceI: nonceI,
                                                          nonceR: nonceR, encryption: esp.encryption, integrity: esp.integrity)
        let (out, inb) = keymat.directions(isInitiator: isInitiator)
        return ChildSAParameters(
            inboundSPI: inboundSPI, outboundSPI: outboundSPI, encryption: esp.encryption, integrity: esp.integrity,
            extendedSequenceNumbers: esp.esn, inboundEncryptionKey: inb.encryption, outboundEncryptionKey: out.encryption,
            inboundIntegrityKey: inb.integrity, outboundIntegrityKey: out.integrity, local: local, peer: peer,
            udpEncapsulation: natDetected, lifetimeSeconds: configuration.childLifetimeSeconds)
    }

    /// IKE_AUTH completed with the first Child SA: the SA is up (§1.2), its IKE SA rekey scheduled.
    private func establish(_ child: ChildSAParameters, now: IKEInstant) {
        var up = IKEEstablishedSA()
        scheduleIKERekey(&up, now: now)
        addChild(child, to: &up, now: now)
        phase = .established(up)
    }

    // MARK: Initiator

    /// `initRequest` / `initResponse`: IKE_SA_INIT as we last sent it and as the responder answered
    /// (RealMessage1 we sign, RealMessage2 its AUTH signs, §2.15).
    /// `intermediate`: the IKE_INTERMEDIATE exchanges that came between (RFC 9242 §3.3.2).
    func sendAuthRequest(initRequest: [UInt8], initResponse: [UInt8], peerSignatureHashes: [UInt16]?,
                         intermediate: IKEIntermediateAuthentication, now: IKEInstant) throws {
        guard let keys else { return }
        let messageID = window.takeRequestID()
        let intermediateOctets = intermediate.octets(authMessageID: messageID)
        let (id, authPayloads) = try ourAuthPayloads(nonce: nonceR, initMessage: initRequest, key: keys.skPi,
                                                     intermediate: intermediateOctets, peerSignatureHashes: peerSignatureHashes)
        let childInboundSPI = try randomESPSPI()
        var payloads: [IKEPayload] = [.identificationInitiator(id)]
        payloads += authPayloads.dropLast()
        if configuration.preSharedKey == nil, !authenticator.trustedCAKeyHashes.isEmpty {
            payloads.append(.certificateRequest(IKECertificateRequest(encoding: .x509Signature,
                                                                      authorityData: authenticator.trustedCAKeyHashes.flatMap { $0 })))
        }
        if let peerID = configuration.peerIdentity { payloads.append(.identificationResponder(IKEIdentification(peerID))) }
        payloads += authPayloads.suffix(1)
        let proposals = configuration.espProposals.enumerated().map {
            $1.wireProposal(number: UInt8(truncatingIfNeeded: $0 + 1), spi: childInboundSPI)
        }
        payloads.append(.securityAssociation(IKESecurityAssociation(proposals: proposals)))
        payloads.append(.trafficSelectorInitiator(IKETrafficSelectors(configuration.localTrafficSelectors)))
        payloads.append(.trafficSelectorResponder(IKETrafficSelectors(configuration.remoteTrafficSelectors)))
        if configuration.sendInitialContact { payloads.append(.notify(IKENotify(type: .initialContact))) }
        let bytes = try sealed(header(.ikeAuth, messageID: messageID, response: false), payloads)
        sendRequest(bytes, exchange: .ikeAuth, messageID: messageID, now: now)
        phase = .authSent(IKEInitiatorAuthentication(initResponseBytes: initResponse, childInboundSPI: childInboundSPI,
                                                     intermediateOctets: intermediateOctets))
    }

    func processAuthResponse(_ message: IKEMessage, _ datagram: IKEDatagram, _ sent: IKEInitiatorAuthentication,
                             now: IKEInstant) throws {
        guard let inner = openProtected(message, datagram) else { return }  // §2.21: drop, keep waiting
        window.outstanding = nil
        let p = AuthPayloads(inner)
        if p.auth == nil, let error = p.notifies.first(where: { $0.type.rawValue < 16384 }) {
            failFromPeerNotify(error, exchange: "IKE_AUTH")
            return
        }
        if let critical = p.critical {
            fail(.invalidSyntax, "peer \(peer) sent a critical payload of unknown type \(critical) in IKE_AUTH")
            return
        }
        guard let idR = p.idR else {
            fail(.invalidSyntax, "IKE_AUTH response from \(peer) has no IDr payload")
            return
        }
        switch try verifyPeer(p, id: idR, initMessage: sent.initResponseBytes, nonce: nonceI, key: keys?.skPr ?? SecureBytes([]),
                              intermediate: sent.intermediateOctets, now: now) {
        case .failure(let failure):
            // §2.21.2: an initiator tells the responder in a separate INFORMATIONAL exchange.
            sendOneShot([.notify(IKENotify(type: .authenticationFailed))], exchange: .informational)
            report(failure)
            return
        case .success(let text):
            peerIdentityText = text
        }
        emit(establishedEvent())
        // The Child SA (§1.2): errors here leave an IKE SA without a tunnel, useless to a
        // route-based gateway, so the SA is deleted and the failure reported.
        if let error = p.notifies.first(where: { $0.type.rawValue < 16384 }) {
            sendOneShot([.delete(.ikeSA)], exchange: .informational)
            failFromPeerNotify(error, exchange: "IKE_AUTH")
            return
        }
        if p.notifies.contains(where: { $0.type == .useTransportMode }) {
            sendOneShot([.delete(.ikeSA)], exchange: .informational)
            fail(.other, "peer \(peer) insists on transport mode; Viaduct only runs tunnel mode (RFC 7296 §1.3.1)")
            return
        }
        guard let sa = p.sa, let tsI = p.tsI, let tsR = p.tsR else {
            sendOneShot([.delete(.ikeSA)], exchange: .informational)
            fail(.invalidSyntax, "IKE_AUTH response from \(peer) has no Child SA (SA, TSi, TSr missing)")
            return
        }
        guard let (esp, outboundSPI) = IKEProposalSelection.acceptESP(ours: configuration.espProposals, chosen: sa.proposals) else {
            sendOneShot([.delete(.ikeSA)], exchange: .informational)
            fail(.noProposalChosen, "peer \(peer) chose ESP \(IKEProposalText.format(sa.proposals)), which is not one of our ESP proposals \(configuration.espProposals.map(\.description).joined(separator: ", "))")
            return
        }
        guard IKETrafficSelectorNarrowing.isNarrowing(tsI, of: configuration.localTrafficSelectors),
              IKETrafficSelectorNarrowing.isNarrowing(tsR, of: configuration.remoteTrafficSelectors) else {
            sendOneShot([.delete(.ikeSA)], exchange: .informational)
            fail(.trafficSelectorsUnacceptable, "peer \(peer) answered traffic selectors \(IKETrafficSelectorNarrowing.describe(tsI)) === \(IKETrafficSelectorNarrowing.describe(tsR)), not within our \(IKETrafficSelectorNarrowing.describe(configuration.localTrafficSelectors)) === \(IKETrafficSelectorNarrowing.describe(configuration.remoteTrafficSelectors))")
            return
        }
        let child = try childParameters(esp, inboundSPI: sent.childInboundSPI, outboundSPI: outboundSPI)
        establish(child, now: now)
    }

    // MARK: Responder

    func processAuthRequest(_ message: IKEMessage, _ datagram: IKEDatagram, _ handshake: IKEResponderHandshake,
                            now: IKEInstant) throws {
        guard let keys, let inner = openProtected(message, datagram) else { return }  // §2.21: never answer a forgery
        // §2.23: the authenticated request's addresses are the SA's from now on (port 4500 after NAT-D).
        local = datagram.destination
        peer = datagram.source
        let messageID = message.header.messageID
        let p = AuthPayloads(inner)
        func respond(_ payloads: [IKEPayload]) throws {
            let bytes = try sealed(header(.ikeAuth, messageID: messageID, response: true), payloads)
            sendResponse(bytes, to: datagram, messageID: messageID)
        }
        if let critical = p.critical {
            try respond([.notify(IKENotify(type: .unsupportedCriticalPayload, data: [critical]))])
            fail(.invalidSyntax, "peer \(peer) sent a critical payload of unknown type \(critical) in IKE_AUTH", notify: .unsupportedCriticalPayload)
            return
        }
        if let group = handshake.remainingKeyExchanges.first {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            fail(.invalidSyntax, "peer \(peer) sent IKE_AUTH before the additional key exchange \(IKEProposalText.word(group)) (RFC 9370 §2.2.2)",
                 notify: .invalidSyntax)
            return
        }
        let intermediateOctets = handshake.authentication.octets(authMessageID: messageID)
        guard let idI = p.idI, p.auth != nil else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            fail(.invalidSyntax, "IKE_AUTH request from \(peer) lacks IDi or AUTH", notify: .invalidSyntax)
            return
        }
        if let directory = dynamicPeers {
            // §3.5: the identity picks the peer (IKEDynamicPeers.swift); AUTH is then checked
            // against that peer's identity and credentials, as for a fixed peer.
            dynamicPeers = nil
            guard let chosen = directory.peer(identifiedBy: idI) else {
                try respond([.notify(IKENotify(type: .authenticationFailed))])
                fail(.identityMismatch, "peer at \(peer) authenticated as \(IKEIdentityText.describe(idI)), which is none of the \(directory.count) dynamic peers of this node",
                     notify: .authenticationFailed)
                return
            }
            if let chosenIKE = ikeAlgorithms, !chosen.configuration.ikeProposals.contains(where: { $0.allows(chosenIKE) }) {
                try respond([.notify(IKENotify(type: .authenticationFailed))])
                fail(.noProposalChosen, "dynamic peer \(chosen.tunnel) at \(peer) negotiated IKE \(chosenIKE), which its tunnel does not allow (\(chosen.configuration.ikeProposals.map(\.description).joined(separator: ", ")))",
                     notify: .authenticationFailed)
                return
            }
            var c = chosen.configuration
            c.role = .responder
            c.local = local
            c.peer = peer
            configuration = c
            if let a = chosen.authenticator { authenticator = a }
            selectedTunnel = chosen.tunnel
        }
        if let idR = p.idR, !IKEIdentityText.matches(idR, configuration.localIdentity) {
            try respond([.notify(IKENotify(type: .authenticationFailed))])
            fail(.identityMismatch, "peer \(peer) wants to talk to \(IKEIdentityText.describe(idR)), but we are \(IKEIdentityText.describe(configuration.localIdentity))",
                 notify: .authenticationFailed)
            return
        }
        switch try verifyPeer(p, id: idI, initMessage: handshake.initRequestBytes, nonce: nonceR, key: keys.skPi,
                              intermediate: intermediateOctets, now: now) {
        case .failure(let failure):
            try respond([.notify(IKENotify(type: .authenticationFailed))])
            report(failure)
            return
        case .success(let text):
            peerIdentityText = text
        }
        let (_, authPayloads) = try ourAuthPayloads(nonce: nonceI, initMessage: handshake.initResponseBytes, key: keys.skPr,
                                                    intermediate: intermediateOctets, peerSignatureHashes: handshake.peerSignatureHashes)
        var payloads: [IKEPayload] = [.identificationResponder(IKEIdentification(configuration.localIdentity))] + authPayloads
        // The Child SA; USE_TRANSPORT_MODE is ignored, which answers "tunnel mode" (§1.3.1).
        var childFailure: IKEFailure?
        var child: ChildSAParameters?
        if let sa = p.sa, let tsI = p.tsI, let tsR = p.tsR {
            let narrowedI = IKETrafficSelectorNarrowing.narrow(proposed: tsI, configured: configuration.remoteTrafficSelectors)
            let narrowedR = IKETrafficSelectorNarrowing.narrow(proposed: tsR, configured: configuration.localTrafficSelectors)
            if let (esp, number, outboundSPI) = IKEProposalSelection.selectESP(ours: configuration.espProposals, offered: sa.proposals) {
                if narrowedI.isEmpty || narrowedR.isEmpty {
                    payloads.append(.notify(IKENotify(type: .tsUnacceptable)))
                    childFailure = IKEFailure(.trafficSelectorsUnacceptable, "peer \(peer) proposed traffic selectors \(IKETrafficSelectorNarrowing.describe(tsI)) === \(IKETrafficSelectorNarrowing.describe(tsR)); we allow \(IKETrafficSelectorNarrowing.describe(configuration.remoteTrafficSelectors)) === \(IKETrafficSelectorNarrowing.describe(configuration.localTrafficSelectors))", notify: IKENotifyType.tsUnacceptable.rawValue)
                } else {
                    let childInboundSPI = try randomESPSPI()
                    payloads.append(.securityAssociation(IKESecurityAssociation(proposals: [esp.asSet.wireProposal(number: number, spi: childInboundSPI)])))
                    payloads.append(.trafficSelectorInitiator(IKETrafficSelectors(narrowedI)))
                    payloads.append(.trafficSelectorResponder(IKETrafficSelectors(narrowedR)))
                    child = try childParameters(esp, inboundSPI: childInboundSPI, outboundSPI: outboundSPI)
                }
            } else {
                payloads.append(.notify(IKENotify(type: .noProposalChosen)))
                childFailure = IKEFailure(.noProposalChosen, "peer \(peer) offered ESP \(IKEProposalText.format(sa.proposals)); we require one of \(configuration.espProposals.map(\.description).joined(separator: ", "))", notify: IKENotifyType.noProposalChosen.rawValue)
            }
        } else {
            childFailure = IKEFailure(.invalidSyntax, "peer \(peer) asked for no Child SA (SA, TSi or TSr missing); a route-based tunnel needs one")
        }
        try respond(payloads)
        emit(establishedEvent())
        if p.notifies.contains(where: { $0.type == .initialContact }) {
            // §2.4: the peer holds no other IKE SA with us; older ones of this identity are stale.
            emit(.initialContact(peerIdentity: peerIdentityText ?? ""))
        }
        if let child {
            establish(child, now: now)
        } else if let childFailure {
            report(childFailure)
        }
    }
}
