import CryptoCore
import IKEv2
import NetTypes

/// Both gateways' data planes as the daemon would drive them: events applied in order, and after
/// every one the make-before-break invariant is checked — each side sends on an SA whose SPI and
/// key the other side has installed inbound. `violations` lists every moment it did not hold.
final class RekeyDataplaneModel {
    struct Side {
        var installed: [ESPSPI: ChildSAParameters] = [:]
        var active: ESPSPI?
        var outbound: ChildSAParameters? { active.flatMap { installed[$0] } }
    }

    private(set) var initiator = Side()
    private(set) var responder = Side()
    private(set) var violations: [String] = []
    private(set) var readyCount = (initiator: 0, responder: 0)
    private(set) var eventsApplied = 0
    /// Armed once both sides have their first SA.
    private var armed = false

    func apply(_ fromInitiator: Bool, _ event: IKEEvent) {
        var side = fromInitiator ? initiator : responder
        switch event {
        case .childSAReady(let p):
            if side.installed[p.inboundSPI] != nil { violations.append("SA \(p.inboundSPI) installed twice") }
            side.installed[p.inboundSPI] = p
            if p.activateOutbound || side.active == nil { side.active = p.inboundSPI }
            if fromInitiator { readyCount.initiator += 1 } else { readyCount.responder += 1 }
        case .childSAOutboundActivated(let inbound, _):
            if side.installed[inbound] == nil { violations.append("activated SA \(inbound) that is not installed") }
            side.active = inbound
        case .childSADeleted(let inbound, _):
            side.installed[inbound] = nil
            if side.active == inbound { side.active = nil }
        default:
            return
        }
        if fromInitiator { initiator = side } else { responder = side }
        eventsApplied += 1
        if !armed, initiator.active != nil, responder.active != nil { armed = true }
        if armed { check(after: event, fromInitiator) }
    }

    private func check(after event: IKEEvent, _ fromInitiator: Bool) {
        for (name, me, peer) in [("initiator", initiator, responder), ("responder", responder, initiator)] {
            guard let out = me.outbound else {
                violations.append("\(name) has no outbound SA after \(event)")
                continue
            }
            guard let theirs = peer.installed[out.outboundSPI] else {
                violations.append("\(name) sends on SPI \(out.outboundSPI), which its peer has not installed (after \(event))")
                continue
            }
            if bytes(theirs.inboundEncryptionKey) != bytes(out.outboundEncryptionKey)
                || bytes(theirs.inboundIntegrityKey) != bytes(out.outboundIntegrityKey) {
                violations.append("\(name) sends on SPI \(out.outboundSPI) with a key its peer cannot decrypt")
            }
        }
    }
}
