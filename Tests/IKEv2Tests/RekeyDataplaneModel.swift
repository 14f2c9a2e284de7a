import CryptoCore
import IKEv2
import NetTypes

/// Both gateways' data planes as the daemon would drive them: engine events (`apply(_:_:)` with
/// an `IKEEvent`) or the endpoint's actions (`apply(_:_:)` with an `IKEEndpointAction`) applied
/// in order, and after every one the make-before-break invariant is checked — each side sends on
/// an SA whose SPI and key the other side has installed inbound. `violations` lists every moment
/// it did not hold. "initiator" is gateway A of an `EndpointPair`, "responder" gateway B.
final class RekeyDataplaneModel {
    struct Side {
        var installed: [ESPSPI: ChildSAParameters] = [:]
        var active: ESPSPI?
        /// Operations in order: "install 1234", "install 1234 idle", "activate 1234", "delete 1234" (inbound SPIs).
        var log: [String] = []
        var outbound: ChildSAParameters? { active.flatMap { installed[$0] } }
        /// The installed inbound SPIs.
        var inbound: Set<ESPSPI> { Set(installed.keys) }
        /// The SPI this side sends on.
        var outboundSPI: ESPSPI? { outbound?.outboundSPI }
    }

    private(set) var initiator = Side()
    private(set) var responder = Side()
    private(set) var violations: [String] = []
    private(set) var readyCount = (initiator: 0, responder: 0)
    private(set) var eventsApplied = 0
    /// Whether the invariant is checked. Armed by itself once both sides have their first SA,
    /// unless `armsItself` is false (then the owner arms and disarms it).
    var armed = false
    var armsItself = true

    func apply(_ fromInitiator: Bool, _ event: IKEEvent) {
        switch event {
        case .childSAReady(let p):
            update(fromInitiator, "\(event)") { side in
                Self.install(&side, p, activate: p.activateOutbound || side.active == nil, violations: &violations)
            }
            if fromInitiator { readyCount.initiator += 1 } else { readyCount.responder += 1 }
        case .childSAOutboundActivated(let inbound, _):
            update(fromInitiator, "\(event)") { Self.activate(&$0, inbound, violations: &violations) }
        case .childSADeleted(let inbound, _):
            update(fromInitiator, "\(event)") { Self.delete(&$0, inbound) }
        default:
            return
        }
    }

    /// The endpoint's data-plane actions, as the daemon performs them (an idle install leaves
    /// the outbound SA where it was).
    func apply(_ fromInitiator: Bool, _ action: IKEEndpointAction) {
        switch action {
        case .installChildSA(let p, _):
            update(fromInitiator, "install \(p.inboundSPI.rawValue)") { Self.install(&$0, p, activate: p.activateOutbound, violations: &violations) }
        case .activateOutbound(let inbound, _, _):
            update(fromInitiator, "activate \(inbound.rawValue)") { Self.activate(&$0, inbound, violations: &violations) }
        case .deleteChildSA(let inbound, _, _):
            update(fromInitiator, "delete \(inbound.rawValue)") { Self.delete(&$0, inbound) }
        default:
            return
        }
    }

    private static func install(_ side: inout Side, _ p: ChildSAParameters, activate: Bool, violations: inout [String]) {
        if side.installed[p.inboundSPI] != nil { violations.append("SA \(p.inboundSPI.rawValue) installed twice") }
        side.installed[p.inboundSPI] = p
        if activate { side.active = p.inboundSPI }
        side.log.append("install \(p.inboundSPI.rawValue)\(activate ? "" : " idle")")
    }

    private static func activate(_ side: inout Side, _ inbound: ESPSPI, violations: inout [String]) {
        if side.installed[inbound] == nil { violations.append("activated SA \(inbound.rawValue) that is not installed") }
        side.active = inbound
        side.log.append("activate \(inbound.rawValue)")
    }

    private static func delete(_ side: inout Side, _ inbound: ESPSPI) {
        side.installed[inbound] = nil
        if side.active == inbound { side.active = nil }
        side.log.append("delete \(inbound.rawValue)")
    }

    private func update(_ fromInitiator: Bool, _ what: String, _ change: (inout Side) -> Void) {
        var side = fromInitiator ? initiator : responder
        change(&side)
        if fromInitiator { initiator = side } else { responder = side }
        eventsApplied += 1
        if armsItself, !armed, initiator.active != nil, responder.active != nil { armed = true }
        if armed { check(after: what) }
    }

    private func check(after what: String) {
        for (name, me, peer) in [("initiator", initiator, responder), ("responder", responder, initiator)] {
            guard let out = me.outbound else {
                violations.append("\(name) has no outbound SA after \(what)")
                continue
            }
            guard let theirs = peer.installed[out.outboundSPI] else {
                violations.append("\(name) sends on SPI \(out.outboundSPI), which its peer has not installed (after \(what))")
                continue
            }
            if bytes(theirs.inboundEncryptionKey) != bytes(out.outboundEncryptionKey)
                || bytes(theirs.inboundIntegrityKey) != bytes(out.outboundIntegrityKey) {
                violations.append("\(name) sends on SPI \(out.outboundSPI) with a key its peer cannot decrypt")
            }
        }
    }
}
