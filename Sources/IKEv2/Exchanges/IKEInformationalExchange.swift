// RFC 7296 §1.4 (INFORMATIONAL: Delete, liveness), §1.4.1 (deleting an SA), §2.4 (liveness),
// §1.3 / §2.25 (CREATE_CHILD_SA, which this engine refuses until rekeying is implemented).
//
//   HDR, SK {[N,] [D,] ...}  -->
//                       <--  HDR, SK {[N,] [D,] ...}

extension IKESession {
    /// Deletes the IKE SA (and with it the Child SA): sends HDR, SK {D(IKE)} and waits for the
    /// answer; `ikeSADeleted` follows (or a timeout failure).
    public func close(now: IKEInstant) {
        guard state == .established, outstanding == nil, protection != nil else { return }
        let messageID = nextRequestID
        nextRequestID &+= 1
        guard let bytes = try? sealed(header(.informational, messageID: messageID, response: false), [.delete(.ikeSA)]) else { return }
        sendRequest(bytes, exchange: .informational, messageID: messageID, now: now)
        state = .deleting
    }

    func processInformationalRequest(_ message: IKEMessage, _ datagram: IKEDatagram, now: IKEInstant) throws {
        guard let sk = message.encryptedPayload, let protection,
              let inner = try? protection.open(raw: datagram.bytes, sk: sk) else { return }
        let messageID = message.header.messageID
        var answer: [IKEPayload] = []
        var deleteIKE = false
        var deletedChild = false
        for case .delete(let d) in inner {
            switch d.protocolID {
            case .ike: deleteIKE = true
            case .esp:
                if let child = childSA, d.spis32.contains(child.outboundSPI) {
                    answer.append(.delete(.childSAs([child.inboundSPI])))
                    deletedChild = true
                }
            default: break
            }
        }
        if deleteIKE { answer = [] }
        let bytes = try sealed(header(.informational, messageID: messageID, response: true), answer)
        sendResponse(bytes, to: datagram, messageID: messageID)
        if deleteIKE || deletedChild, let child = childSA {
            emit(.childSADeleted(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI))
            childSA = nil
        }
        if deleteIKE {
            outstanding = nil
            state = .closed
            emit(.ikeSADeleted)
        }
    }

    func processInformationalResponse(_ message: IKEMessage, _ datagram: IKEDatagram, now: IKEInstant) throws {
        guard let sk = message.encryptedPayload, let protection,
              (try? protection.open(raw: datagram.bytes, sk: sk)) != nil else { return }
        outstanding = nil
        if state == .deleting {
            if let child = childSA {
                emit(.childSADeleted(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI))
                childSA = nil
            }
            state = .closed
            emit(.ikeSADeleted)
        }
    }

    /// Rekeying and extra Child SAs are not implemented yet: answer NO_ADDITIONAL_SAS (§1.3) so
    /// the peer keeps the current SAs instead of retransmitting.
    func refuseCreateChildSA(_ message: IKEMessage, _ datagram: IKEDatagram) throws {
        guard let sk = message.encryptedPayload, let protection,
              (try? protection.open(raw: datagram.bytes, sk: sk)) != nil else { return }
        let messageID = message.header.messageID
        let bytes = try sealed(header(.createChildSA, messageID: messageID, response: true),
                               [.notify(IKENotify(type: .noAdditionalSAs))])
        sendResponse(bytes, to: datagram, messageID: messageID)
    }
}
