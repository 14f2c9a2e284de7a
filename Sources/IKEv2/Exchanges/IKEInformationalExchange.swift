// RFC 7296 §1.4 (INFORMATIONAL: Delete, liveness), §1.4.1 (deleting an SA), §2.4 (liveness),
// §2.25.1 (a Delete crossing a rekey):
//
//   HDR, SK {[N,] [D,] ...}  -->
//                       <--  HDR, SK {[N,] [D,] ...}
import NetTypes

extension IKESession {
    /// Deletes the IKE SA (and with it the Child SAs): sends HDR, SK {D(IKE)} (after the
    /// outstanding request, if any) and waits for the answer; `ikeSADeleted` follows (or a timeout).
    public func close(now: IKEInstant) {
        guard state == .established, protection != nil else { return }
        withUp { up in
            up.pendingTasks = [.deleteIKE]
            startNextTask(&up, now: now)
        }
    }

    /// Deletes one Child SA (§1.4.1): HDR, SK {D(ESP, spi)}; `childSADeleted` follows the answer.
    public func deleteChildSA(inboundSPI: ESPSPI, now: IKEInstant) {
        guard state == .established else { return }
        withUp { up in
            guard let i = up.childIndex(inbound: inboundSPI), up.children[i].phase != .deleting else { return }
            up.children[i].phase = .deleting
            up.enqueue(.deleteChildren([inboundSPI]))
            startNextTask(&up, now: now)
        }
    }

    func processInformationalRequest(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                                     now: IKEInstant) throws {
        guard let inner = openAuthenticated(message, datagram, &up, now: now) else { return }
        let messageID = message.header.messageID
        let deleteIKE = inner.contains { if case .delete(let d) = $0 { d.protocolID == .ike } else { false } }
        let (answerSPIs, removed) = childDeletes(in: inner, up)
        let answer: [IKEPayload] = deleteIKE || answerSPIs.isEmpty ? [] : [.delete(.childSAs(answerSPIs))]
        let bytes = try sealed(header(.informational, messageID: messageID, response: true), answer)
        sendResponse(bytes, to: datagram, messageID: messageID)
        // §2.8.2: the old SA deleted after the peer's rekey won a collision: not the end.
        if deleteIKE, adoptCandidateOnDelete(&up, now: now) { return }
        if deleteIKE {
            endDeleted(up)
            return
        }
        removeDeletedChildren(removed, &up)
        startNextTask(&up, now: now)
    }

    /// §1.4.1: the Child SAs a peer's Delete payloads name (by the peer's inbound SPI, our
    /// outbound one): our inbound SPIs to answer with, and the SAs to remove.
    func childDeletes(in inner: [IKEPayload], _ up: IKEEstablishedSA) -> (answer: [ESPSPI], removed: [ESPSPI]) {
        var named: [ESPSPI] = []
        for case .delete(let d) in inner where d.protocolID == .esp { named += d.espSPIs }
        return childDeletes(named, up)
    }

    /// The same for the peer's SPIs `named` (also relayed from a replaced IKE SA, §2.18).
    func childDeletes(_ named: [ESPSPI], _ up: IKEEstablishedSA) -> (answer: [ESPSPI], removed: [ESPSPI]) {
        var answer: [ESPSPI] = []
        var removed: [ESPSPI] = []
        for spi in named {
            guard let child = up.children.first(where: { $0.outboundSPI == spi }) else { continue }
            // §1.4.1: a Delete crossing ours is not answered with a Delete of the same SA.
            if child.phase != .deleting { answer.append(child.inboundSPI) }
            removed.append(child.inboundSPI)
        }
        return (answer, removed)
    }

    /// What a side IKE SA of this tunnel heard (the endpoint hands it over): the peer is alive;
    /// or it deleted Child SAs through the SA they moved from, which go now. Returns our inbound
    /// SPIs of those, for the side SA's answer.
    public func relayed(_ relay: IKESARelay, now: IKEInstant) -> [ESPSPI] {
        guard !state.isTerminal else { return [] }
        return withUp { relayed(relay, &$0, now: now) } ?? []
    }

    /// `relayed` under `withUp` (from the candidate, too).
    func relayed(_ relay: IKESARelay, _ up: inout IKEEstablishedSA, now: IKEInstant) -> [ESPSPI] {
        switch relay {
        case .peerActivity:
            up.noteInbound(now: now)
            return []
        case .childDeletes(let named):
            let (answer, removed) = childDeletes(named, up)
            if !removed.isEmpty {
                removeDeletedChildren(removed, &up)
                startNextTask(&up, now: now)
            }
            return answer
        }
    }

    func removeDeletedChildren(_ removed: [ESPSPI], _ up: inout IKEEstablishedSA) {
        for spi in removed {
            if case .rekeyChild(var ctx) = up.activeTask, ctx.oldInboundSPI == spi {
                ctx.oldDeleted = true  // §2.25.1: our rekey of it is still in flight
                up.activeTask = .rekeyChild(ctx)
            }
            removeChild(spi, &up)
        }
    }

    func processInformationalResponse(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                                      now: IKEInstant) throws {
        guard openAuthenticated(message, datagram, &up, now: now) != nil else { return }
        window.outstanding = nil
        let task = up.activeTask
        up.activeTask = nil
        switch task {
        case .deleteChildren(let spis)?:
            // §1.4.1: our inbound SAs go once the peer confirmed.
            for spi in spis { removeChild(spi, &up) }
        case .deleteIKE?:
            endDeleted(up)
            return
        default:
            break
        }
        startNextTask(&up, now: now)
    }
}
