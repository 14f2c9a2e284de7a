// RFC 9370 §2.2 (multiple key exchanges) over RFC 9242 (IKE_INTERMEDIATE), between IKE_SA_INIT
// and IKE_AUTH, one exchange per additional key exchange the proposal chose:
//
//   Initiator                         Responder
//   HDR, SAi1(.. ADDITIONAL_KEY_EXCHANGE_n ..), KEi, Ni, N(INTERMEDIATE_EXCHANGE_SUPPORTED)  -->
//                                <--  HDR, SAr1, KEr, Nr, N(INTERMEDIATE_EXCHANGE_SUPPORTED)
//   HDR(IKE_INTERMEDIATE, MID 1), SK {KEi(1)}  -->
//                                <--  HDR(IKE_INTERMEDIATE, MID 1), SK {KEr(1)}
//   ... one exchange per additional key exchange ...
//   HDR(IKE_AUTH, MID n+1), SK {IDi, AUTH, SAi2, TSi, TSr}  -->
//
// Each exchange is protected with the keys so far; once it completes, both sides rekey the IKE
// SA in place (§2.2.2): SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr) and
// {SK_d(n) | SK_ai(n) | … | SK_pr(n)} = prf+(SKEYSEED(n), Ni | Nr | SPIi | SPIr). AUTH then also
// covers the intermediate messages (RFC 9242 §3.3.2, below).
import CryptoCore
import NetTypes

/// RFC 9242 §3.3.2: the running MACs of the IKE_INTERMEDIATE messages each side sent,
///   IntAuth_iN = prf(SK_pi, IntAuth_i(N-1) | IntAuth_iN_A | IntAuth_iN_P)   (requests)
///   IntAuth_rN = prf(SK_pr, IntAuth_r(N-1) | IntAuth_rN_A | IntAuth_rN_P)   (responses)
/// with the SK_p keys that protected exchange N, IntAuth_*0 empty, _A the IKE header and the SK
/// payload's generic header as they would be for the plaintext (lengths counting only _P, next
/// payload SK even when the message went as fragments), and _P the inner payloads. AUTH's signed
/// octets end with IntAuth = IntAuth_iN | IntAuth_rN | IKE_AUTH's message ID.
struct IKEIntermediateAuthentication {
    private(set) var initiator: [UInt8] = []
    private(set) var responder: [UInt8] = []
    private(set) var exchanges = 0

    /// Adds one message: `header` as sent or received, `firstInner` and `inner` its decrypted
    /// payload chain. `key` is SK_pi for a request, SK_pr for a response.
    mutating func add(header: IKEHeader, firstInner: IKEPayloadType, inner: [UInt8],
                      prf: any PseudoRandomFunction, key: SecureBytes) throws(CryptoError) {
        var a = IKEByteWriter()
        var h = header
        h.nextPayload = .encrypted
        h.length = UInt32(IKEHeader.size + 4 + inner.count)
        h.encode(into: &a)
        a.write(firstInner.rawValue)
        a.write(UInt8(0))
        a.write(UInt16(truncatingIfNeeded: 4 + inner.count))
        let request = !header.isResponse
        let data = (request ? initiator : responder) + a.bytes + inner
        let mac = try IKEAuthOctets.mac(data, prf: prf, key: key)
        if request { initiator = mac } else { responder = mac; exchanges += 1 }
    }

    /// What AUTH's signed octets end with: nothing without IKE_INTERMEDIATE exchanges.
    func octets(authMessageID: UInt32) -> [UInt8] {
        exchanges == 0 ? [] : initiator + responder + IKEWire.bytes(authMessageID)
    }
}

/// Initiator, from the first IKE_INTERMEDIATE request until the last response (then IKE_AUTH).
struct IKEInitiatorIntermediate {
    var initRequestBytes: [UInt8]
    var initResponseBytes: [UInt8]
    var peerSignatureHashes: [UInt16]?
    /// The key exchanges still to run, the current one first.
    var remaining: [KeyExchangeGroup]
    /// Our half of the current one.
    var keyExchange: any KeyExchange
    var authentication = IKEIntermediateAuthentication()
}

extension IKESession {
    // MARK: Initiator

    /// After IKE_SA_INIT: the first additional key exchange, or IKE_AUTH when there is none.
    func continueAfterInit(initRequest: [UInt8], initResponse: [UInt8], peerSignatureHashes: [UInt16]?,
                           peerSupportsIntermediate: Bool, now: IKEInstant) throws {
        guard let chosen = ikeAlgorithms, let first = chosen.additionalGroups.first else {
            try sendAuthRequest(initRequest: initRequest, initResponse: initResponse, peerSignatureHashes: peerSignatureHashes,
                                intermediate: IKEIntermediateAuthentication(), now: now)
            return
        }
        guard peerSupportsIntermediate else {
            fail(.noProposalChosen, "peer \(peer) chose additional key exchanges (\(chosen)) but did not announce IKE_INTERMEDIATE (RFC 9370 §2.2.2 needs INTERMEDIATE_EXCHANGE_SUPPORTED)")
            return
        }
        var step = IKEInitiatorIntermediate(initRequestBytes: initRequest, initResponseBytes: initResponse,
                                            peerSignatureHashes: peerSignatureHashes, remaining: chosen.additionalGroups,
                                            keyExchange: try provider.makeKeyExchange(first, random: &random))
        try sendIntermediateRequest(&step, now: now)
    }

    private func sendIntermediateRequest(_ step: inout IKEInitiatorIntermediate, now: IKEInstant) throws {
        guard let prf, let keys else { throw IKEProtectionError(message: "no IKE SA keys") }
        let payloads: [IKEPayload] = [.keyExchange(IKEKeyExchange(group: step.keyExchange.group, data: step.keyExchange.publicValue))]
        let messageID = window.takeRequestID()
        let h = header(.ikeIntermediate, messageID: messageID, response: false)
        let (first, inner) = try IKEMessage.encodeInnerPayloads(payloads)
        try step.authentication.add(header: h, firstInner: first, inner: inner, prf: prf, key: keys.skPi)
        let bytes = try sealed(h, payloads)
        sendRequest(bytes, exchange: .ikeIntermediate, messageID: messageID, now: now)
        phase = .intermediateSent(step)
    }

    func processIntermediateResponse(_ message: IKEMessage, _ datagram: IKEDatagram, _ sent: IKEInitiatorIntermediate,
                                     now: IKEInstant) throws {
        guard let prf, let keys, let inner = openProtected(message, datagram) else { return }  // §2.21: drop
        window.outstanding = nil
        var step = sent
        let group = step.keyExchange.group
        let p = CreateChildPayloads(inner)
        if let error = p.error {
            failFromPeerNotify(error, exchange: "IKE_INTERMEDIATE")
            return
        }
        guard let ke = p.ke, ke.group == group.transformID else {
            fail(.invalidSyntax, "IKE_INTERMEDIATE response from \(peer) carries no KE payload for \(IKEProposalText.word(group))")
            return
        }
        let (first, plain) = try IKEMessage.encodeInnerPayloads(inner)
        try step.authentication.add(header: message.header, firstInner: first, inner: plain, prf: prf, key: keys.skPr)
        guard let shared = keyExchangeResult(group, { () throws(CryptoError) in try step.keyExchange.sharedSecret(peerPublicValue: ke.data) })
        else { return }
        try updateIKEKeys(sharedSecret: shared)
        step.remaining.removeFirst()
        if let next = step.remaining.first {
            step.keyExchange = try provider.makeKeyExchange(next, random: &random)
            try sendIntermediateRequest(&step, now: now)
        } else {
            try sendAuthRequest(initRequest: step.initRequestBytes, initResponse: step.initResponseBytes,
                                peerSignatureHashes: step.peerSignatureHashes, intermediate: step.authentication, now: now)
        }
    }

    // MARK: Responder

    func processIntermediateRequest(_ message: IKEMessage, _ datagram: IKEDatagram, _ answered: IKEResponderHandshake,
                                    now: IKEInstant) throws {
        guard let prf, let keys, let inner = openProtected(message, datagram) else { return }  // §2.21: never answer a forgery
        var handshake = answered
        let messageID = message.header.messageID
        // §3.3.2: every IKE_INTERMEDIATE message counts for AUTH, whatever it carries.
        let (first, plain) = try IKEMessage.encodeInnerPayloads(inner)
        try handshake.authentication.add(header: message.header, firstInner: first, inner: plain, prf: prf, key: keys.skPi)
        func respond(_ payloads: [IKEPayload]) throws {
            let h = header(.ikeIntermediate, messageID: messageID, response: true)
            sendResponse(try sealed(h, payloads), to: datagram, messageID: messageID)
            let (firstOut, plainOut) = try IKEMessage.encodeInnerPayloads(payloads)
            try handshake.authentication.add(header: h, firstInner: firstOut, inner: plainOut, prf: prf, key: keys.skPr)
        }
        guard let group = handshake.remainingKeyExchanges.first else {
            // RFC 9242 allows other uses of IKE_INTERMEDIATE; Viaduct has none, so it answers empty.
            try respond([])
            phase = .initAnswered(handshake)
            return
        }
        guard let ke = CreateChildPayloads(inner).ke, ke.group == group.transformID else {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            fail(.invalidSyntax, "IKE_INTERMEDIATE request from \(peer) carries no KE payload for \(IKEProposalText.word(group))",
                 notify: .invalidSyntax)
            return
        }
        let ours: KeyExchangeResponse
        do {
            ours = try provider.respondToKeyExchange(group, initiatorValue: ke.data, random: &random)
        } catch {
            try respond([.notify(IKENotify(type: .invalidSyntax))])
            fail(.invalidSyntax, "peer \(peer) sent invalid \(IKEProposalText.word(group)) key exchange data in IKE_INTERMEDIATE: \(error.message)",
                 notify: .invalidSyntax)
            return
        }
        try respond([.keyExchange(IKEKeyExchange(group: group, data: ours.value))])
        handshake.previousProtection = protection
        try updateIKEKeys(sharedSecret: ours.sharedSecret)
        handshake.remainingKeyExchanges.removeFirst()
        phase = .initAnswered(handshake)
    }

    // MARK: RFC 9370 §2.2.2 keys

    /// The IKE SA rekeyed in place after an additional key exchange: same SPIs and nonces, SK_d
    /// of the keys so far, and the new shared secret.
    private func updateIKEKeys(sharedSecret: SecureBytes) throws {
        guard let prf, let keys, let chosen = ikeAlgorithms else { throw IKEProtectionError(message: "no IKE SA keys") }
        let skeyseed = try IKEKeySchedule.rekeyedSKEYSEED(prf: prf, oldSKd: keys.skD, sharedSecret: sharedSecret,
                                                          nonceI: nonceI, nonceR: nonceR)
        let updated = try IKEKeySchedule.deriveIKESAKeys(prf: prf, skeyseed: skeyseed, nonceI: nonceI, nonceR: nonceR,
                                                         spiI: initiatorSPI.rawValue, spiR: responderSPI.rawValue,
                                                         encryption: chosen.encryption, integrity: chosen.integrity)
        self.keys = updated
        self.protection = try IKEMessageProtection(provider: provider, algorithms: chosen, keys: updated, isInitiator: isInitiator)
    }
}
