// RFC 7296 §1.2, §2.6 (COOKIE), §2.7 (proposal), §2.10 (nonces), §2.14 (keys), §2.23 (NAT-D),
// §1.3 / §2.6 INVALID_KE_PAYLOAD, RFC 7427 §4 (SIGNATURE_HASH_ALGORITHMS):
//
//   Initiator                         Responder
//   HDR, SAi1, KEi, Ni,
//     N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
//     N(SIGNATURE_HASH_ALGORITHMS)  -->
//                                <--  HDR, SAr1, KEr, Nr, N(NAT_D...), [CERTREQ],
//                                       N(SIGNATURE_HASH_ALGORITHMS)
import CryptoCore
import NetTypes

extension IKESession {
    static let nonceLength = 32
    static let maxCookieRetries = 3
    static let maxGroupRetries = 3

    // MARK: Initiator

    func startInitiator(now: IKEInstant) throws {
        guard let group = configuration.ikeProposals.first?.groups.first else {
            fail(.noProposalChosen, "no IKE proposal configured")
            return
        }
        initiatorSPI = try randomSPI()
        nonceI = try random.bytes(Self.nonceLength)
        var handshake = IKEInitiatorHandshake(keyExchange: try provider.makeKeyExchange(group, random: &random))
        try sendInitRequest(&handshake, now: now)
        phase = .initSent(handshake)
    }

    /// Sends the request `handshake` describes (its cookie and key exchange) and keeps its bytes
    /// there for our AUTH (§2.15).
    private func sendInitRequest(_ handshake: inout IKEInitiatorHandshake, now: IKEInstant) throws {
        let ke = handshake.keyExchange
        var payloads: [IKEPayload] = []
        if let cookie = handshake.cookie { payloads.append(.notify(IKENotify(type: .cookie, data: cookie))) }  // §2.6: first
        let proposals = configuration.ikeProposals.enumerated().map { $1.wireProposal(number: UInt8(truncatingIfNeeded: $0 + 1)) }
        payloads.append(.securityAssociation(IKESecurityAssociation(proposals: proposals)))
        payloads.append(.keyExchange(IKEKeyExchange(group: ke.group, data: ke.publicValue)))
        payloads.append(.nonce(IKENonce(data: nonceI)))
        payloads += IKENATDetection.notifies(spiI: initiatorSPI, spiR: .zero, local: local, peer: peer,
                                             fakeSource: configuration.forceUDPEncapsulation)
        payloads.append(signatureHashNotify())
        payloads += fragmentationNotify()
        // RFC 9242 §3.1: announced when a proposal has RFC 9370 additional key exchanges.
        if configuration.ikeProposals.contains(where: { !$0.additional.isEmpty }) {
            payloads.append(.notify(IKENotify(type: .intermediateExchangeSupported)))
        }
        let bytes = try IKEMessage(header: header(.ikeSAInit, messageID: 0, response: false), payloads: payloads).encoded()
        handshake.initRequestBytes = bytes
        window.nextRequestID = 1
        sendRequest(bytes, exchange: .ikeSAInit, messageID: 0, now: now)
    }

    func signatureHashNotify() -> IKEPayload {
        .notify(IKENotify(type: .signatureHashAlgorithms, data: authenticator.supportedSignatureHashes.flatMap { IKEWire.bytes($0) }))
    }

    func processInitResponse(_ message: IKEMessage, _ datagram: IKEDatagram, _ sent: IKEInitiatorHandshake,
                             now: IKEInstant) throws {
        var handshake = sent
        let notifies = message.notifies
        // §2.6: the responder wants proof of our address; resend with its cookie first.
        if let c = notifies.first(where: { $0.type == .cookie }) {
            guard handshake.cookieRetries < Self.maxCookieRetries, (1...64).contains(c.data.count) else {
                fail(.other, "peer \(peer) keeps asking for a COOKIE (\(handshake.cookieRetries) retries); it may be under load or misconfigured")
                return
            }
            handshake.cookieRetries += 1
            handshake.cookie = c.data
            try sendInitRequest(&handshake, now: now)
            phase = .initSent(handshake)
            return
        }
        // §1.3: the responder accepts our proposal but wants another group.
        if let n = notifies.first(where: { $0.type == .invalidKEPayload }) {
            let wanted = n.data.count == 2 ? UInt16(n.data[0]) << 8 | UInt16(n.data[1]) : 0
            let ours = configuration.ikeProposals.flatMap(\.groups)
            guard let group = KeyExchangeGroup(rawValue: wanted), ours.contains(group), group != handshake.keyExchange.group,
                  handshake.groupRetries < Self.maxGroupRetries else {
                let name = KeyExchangeGroup(rawValue: wanted).map(IKEProposalText.word) ?? "group \(wanted)"
                fail(.noProposalChosen, "peer \(peer) demands key exchange \(name) (INVALID_KE_PAYLOAD), which none of our IKE proposals (\(configuration.ikeProposals.map(\.description).joined(separator: ", "))) allows",
                     notify: .invalidKEPayload, reportedByPeer: true)
                return
            }
            handshake.groupRetries += 1
            handshake.keyExchange = try provider.makeKeyExchange(group, random: &random)
            try sendInitRequest(&handshake, now: now)
            phase = .initSent(handshake)
            return
        }
        if let error = notifies.first(where: { $0.type.rawValue < 16384 }) {
            failFromPeerNotify(error, exchange: "IKE_SA_INIT")
            return
        }
        if let critical = message.unsupportedCriticalPayload {
            fail(.invalidSyntax, "peer \(peer) sent a critical payload of unknown type \(critical) in IKE_SA_INIT")
            return
        }
        var sa: IKESecurityAssociation?, ke: IKEKeyExchange?, nonce: IKENonce?
        for p in message.payloads {
            switch p {
            case .securityAssociation(let s): sa = s
            case .keyExchange(let k): ke = k
            case .nonce(let n): nonce = n
            default: break
            }
        }
        guard let sa, let ke, let nonce, !message.header.responderSPI.isZero else {
            fail(.invalidSyntax, "IKE_SA_INIT response from \(peer) lacks SA, KE, Nonce or a responder SPI")
            return
        }
        guard let chosen = IKEProposalSelection.acceptIKE(ours: configuration.ikeProposals, chosen: sa.proposals) else {
            fail(.noProposalChosen, "peer \(peer) chose \(IKEProposalText.format(sa.proposals)), which is not one of our IKE proposals \(configuration.ikeProposals.map(\.description).joined(separator: ", "))")
            return
        }
        let ourKE = handshake.keyExchange
        guard ke.group == chosen.group.transformID, ourKE.group == chosen.group else {
            fail(.invalidSyntax, "peer \(peer) chose key exchange \(IKEProposalText.word(chosen.group)) but its KE payload is for group \(ke.group)")
            return
        }
        guard (16...256).contains(nonce.data.count) else {
            fail(.invalidSyntax, "peer \(peer) sent a \(nonce.data.count)-byte nonce (RFC 7296 §2.10 needs 16 to 256)")
            return
        }
        // §2.11: an initiator on the wildcard address (its own `address: dynamic`, or a DNS
        // name) learns the address the response came to; IKE_AUTH and the Child SAs carry it.
        if local.address.allSatisfy({ $0 == 0 }), !datagram.destination.address.allSatisfy({ $0 == 0 }) {
            local = IKEEndpoint(address: datagram.destination.address, port: local.port)
        }
        responderSPI = message.header.responderSPI
        nonceR = nonce.data
        let peerSignatureHashes = notifies.first(where: { $0.type == .signatureHashAlgorithms }).map { IKEWire.uint16s($0.data) }
        natDetected = configuration.forceUDPEncapsulation
            || IKENATDetection.natDetected(in: notifies, spiI: initiatorSPI, spiR: responderSPI, datagram: datagram)
        recordNATSituation(notifies, spiR: responderSPI, datagram: datagram, now: now)
        recordPeerFragmentationSupport(notifies)
        guard let shared = keyExchangeResult(chosen.group, { () throws(CryptoError) in try ourKE.sharedSecret(peerPublicValue: ke.data) })
        else { return }
        try deriveIKEKeys(chosen, sharedSecret: shared)
        // §2.23: after NAT detection, IKE_AUTH and everything after it use port 4500.
        if natDetected && local.port != 4500 {
            local.port = 4500
            peer.port = 4500
        }
        try continueAfterInit(initRequest: handshake.initRequestBytes, initResponse: datagram.bytes,
                              peerSignatureHashes: peerSignatureHashes,
                              peerSupportsIntermediate: notifies.contains { $0.type == .intermediateExchangeSupported }, now: now)
    }

    // MARK: Responder

    func processInitRequest(_ message: IKEMessage, _ datagram: IKEDatagram, now: IKEInstant) throws {
        local = datagram.destination
        peer = datagram.source
        initiatorSPI = message.header.initiatorSPI
        let notifies = message.notifies
        if let critical = message.unsupportedCriticalPayload {
            respondInitError(.unsupportedCriticalPayload, data: [critical], to: datagram)
            fail(.invalidSyntax, "peer \(peer) sent a critical payload of unknown type \(critical) in IKE_SA_INIT",
                 notify: .unsupportedCriticalPayload)
            return
        }
        var sa: IKESecurityAssociation?, ke: IKEKeyExchange?, nonce: IKENonce?
        for p in message.payloads {
            switch p {
            case .securityAssociation(let s): sa = s
            case .keyExchange(let k): ke = k
            case .nonce(let n): nonce = n
            default: break
            }
        }
        guard let sa, let ke, let nonce, (16...256).contains(nonce.data.count) else {
            respondInitError(.invalidSyntax, to: datagram)
            fail(.invalidSyntax, "IKE_SA_INIT request from \(peer) lacks SA, KE or a valid Nonce", notify: .invalidSyntax)
            return
        }
        guard let (chosen, number) = IKEProposalSelection.selectIKE(ours: configuration.ikeProposals, offered: sa.proposals) else {
            respondInitError(.noProposalChosen, to: datagram)
            fail(.noProposalChosen, "peer \(peer) offered \(IKEProposalText.format(sa.proposals)); we require one of \(configuration.ikeProposals.map(\.description).joined(separator: ", "))",
                 notify: .noProposalChosen)
            return
        }
        // RFC 9370 §2.2.2: additional key exchanges run in IKE_INTERMEDIATE, which the initiator
        // must have announced.
        let intermediate = notifies.contains { $0.type == .intermediateExchangeSupported }
        if !chosen.additionalGroups.isEmpty && !intermediate {
            respondInitError(.noProposalChosen, to: datagram)
            fail(.noProposalChosen, "peer \(peer) offered additional key exchanges (\(IKEProposalText.format(sa.proposals))) without announcing IKE_INTERMEDIATE (INTERMEDIATE_EXCHANGE_SUPPORTED)",
                 notify: .noProposalChosen)
            return
        }
        // §1.3: right proposal, wrong guess of the group. Stateless: the retry starts afresh.
        guard ke.group == chosen.group.transformID else {
            respondInitError(.invalidKEPayload, data: IKEWire.bytes(chosen.group.transformID), to: datagram, cache: false)
            initiatorSPI = .zero
            return
        }
        responderSPI = try randomSPI()
        nonceI = nonce.data
        nonceR = try random.bytes(Self.nonceLength)
        let peerSignatureHashes = notifies.first(where: { $0.type == .signatureHashAlgorithms }).map { IKEWire.uint16s($0.data) }
        natDetected = configuration.forceUDPEncapsulation
            || IKENATDetection.natDetected(in: notifies, spiI: initiatorSPI, spiR: .zero, datagram: datagram)
        recordNATSituation(notifies, spiR: .zero, datagram: datagram, now: now)
        recordPeerFragmentationSupport(notifies)
        guard let ourKE = keyExchangeResult(chosen.group, respondTo: datagram, { () throws(CryptoError) in
            try provider.respondToKeyExchange(chosen.group, initiatorValue: ke.data, random: &random)
        }) else { return }
        try deriveIKEKeys(chosen, sharedSecret: ourKE.sharedSecret)
        var payloads: [IKEPayload] = [
            .securityAssociation(IKESecurityAssociation(proposals: [chosen.asSet.wireProposal(number: number)])),
            .keyExchange(IKEKeyExchange(group: chosen.group, data: ourKE.value)),
            .nonce(IKENonce(data: nonceR)),
        ]
        payloads += IKENATDetection.notifies(spiI: initiatorSPI, spiR: responderSPI, local: local, peer: peer,
                                             fakeSource: configuration.forceUDPEncapsulation)
        if !authenticator.trustedCAKeyHashes.isEmpty {
            payloads.append(.certificateRequest(IKECertificateRequest(encoding: .x509Signature,
                                                                      authorityData: authenticator.trustedCAKeyHashes.flatMap { $0 })))
        }
        payloads.append(signatureHashNotify())
        payloads += fragmentationNotify(answering: notifies)
        if intermediate { payloads.append(.notify(IKENotify(type: .intermediateExchangeSupported))) }  // RFC 9242 §3.1
        let bytes = try IKEMessage(header: header(.ikeSAInit, messageID: 0, response: true), payloads: payloads).encoded()
        sendResponse(bytes, to: datagram, messageID: 0)
        phase = .initAnswered(IKEResponderHandshake(initRequestBytes: datagram.bytes, initResponseBytes: bytes,
                                                    peerSignatureHashes: peerSignatureHashes,
                                                    halfOpenDeadline: now.adding(seconds: configuration.halfOpenTimeoutSeconds),
                                                    remainingKeyExchanges: chosen.additionalGroups))
    }

    /// An unprotected IKE_SA_INIT error answer (§2.21.1), with a zero responder SPI.
    private func respondInitError(_ type: IKENotifyType, data: [UInt8] = [], to request: IKEDatagram, cache: Bool = true) {
        let h = IKEHeader(initiatorSPI: initiatorSPI, responderSPI: .zero, exchangeType: .ikeSAInit, flags: [.response],
                          messageID: 0)
        guard let bytes = try? IKEMessage(header: h, payloads: [.notify(IKENotify(type: type, data: data))]).encoded() else { return }
        sendResponse(bytes, to: request, messageID: 0, cache: cache)
    }

    // MARK: §2.14 keys

    /// The outcome of one key exchange (`compute`: g^ir, or the responder's whole half), or nil
    /// after failing the SA when the peer's KE data is unacceptable (RFC 6989 checks inside
    /// `KeyExchange`; FIPS 203 §7.2–7.3 for ML-KEM). A responder answers INVALID_SYNTAX.
    func keyExchangeResult<T>(_ group: KeyExchangeGroup, respondTo request: IKEDatagram? = nil,
                              _ compute: () throws(CryptoError) -> T) -> T? {
        do {
            return try compute()
        } catch {
            if let request { respondInitError(.invalidSyntax, to: request) }
            fail(.invalidSyntax, "peer \(peer) sent invalid \(IKEProposalText.word(group)) key exchange data: \(error.message)",
                 notify: request == nil ? nil : .invalidSyntax)
            return nil
        }
    }

    /// SKEYSEED and SK_* from the key exchange's shared secret. The private key is dropped with
    /// the handshake phase that holds it (the responder never keeps one).
    func deriveIKEKeys(_ chosen: IKESelectedAlgorithms, sharedSecret shared: SecureBytes) throws {
        let prf = try provider.makePRF(chosen.prf)
        let skeyseed = try IKEKeySchedule.skeyseed(prf: prf, nonceI: nonceI, nonceR: nonceR, sharedSecret: shared)
        let keys = try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: skeyseed, nonceI: nonceI, nonceR: nonceR,
                                                      spiI: initiatorSPI.rawValue, spiR: responderSPI.rawValue,
                                                      encryption: chosen.encryption, integrity: chosen.integrity)
        self.prf = prf
        self.keys = keys
        self.ikeAlgorithms = chosen
        self.protection = try IKEMessageProtection(provider: provider, algorithms: chosen, keys: keys, isInitiator: isInitiator)
    }

    /// Maps an error notify in a peer's response to a failure an engineer can act on.
    func failFromPeerNotify(_ n: IKENotify, exchange: String) {
        let ours = configuration.ikeProposals.map(\.description).joined(separator: ", ")
        switch n.type {
        case .noProposalChosen:
            let what = exchange == "IKE_SA_INIT" ? "IKE proposals \(ours)"
                : "ESP proposals \(configuration.espProposals.map(\.description).joined(separator: ", "))"
            fail(.noProposalChosen, "peer \(peer) accepted none of our \(what) (NO_PROPOSAL_CHOSEN in \(exchange))",
                 notify: n.type, reportedByPeer: true)
        case .authenticationFailed:
            fail(.authenticationFailed, "peer \(peer) rejected our authentication (AUTHENTICATION_FAILED): check that it trusts the CA of our certificate and expects our identity \(IKEIdentityText.describe(configuration.localIdentity))",
                 notify: n.type, reportedByPeer: true)
        case .tsUnacceptable:
            fail(.trafficSelectorsUnacceptable, "peer \(peer) accepts none of our traffic selectors \(IKETrafficSelectorNarrowing.describe(configuration.localTrafficSelectors)) === \(IKETrafficSelectorNarrowing.describe(configuration.remoteTrafficSelectors)) (TS_UNACCEPTABLE)",
                 notify: n.type, reportedByPeer: true)
        case .invalidSyntax:
            fail(.invalidSyntax, "peer \(peer) found our \(exchange) request malformed (INVALID_SYNTAX)", notify: n.type, reportedByPeer: true)
        case .unsupportedCriticalPayload:
            fail(.invalidSyntax, "peer \(peer) does not support a critical payload we sent (UNSUPPORTED_CRITICAL_PAYLOAD)", notify: n.type, reportedByPeer: true)
        default:
            fail(.other, "peer \(peer) answered \(exchange) with error notify \(n.type) (\(n.type.rawValue))", notify: n.type, reportedByPeer: true)
        }
    }
}
