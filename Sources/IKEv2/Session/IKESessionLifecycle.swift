// RFC 7296 §2.8 (lifetimes and rekeying), §2.8.3 (reauthentication), §2.4 (liveness), §2.3 (one request at a time),
// §1.4.1 (deleting Child SAs): the timers and task queue of an established IKE SA.
import NetTypes

extension IKESession {
    /// The daemon saw ESP from the peer: proof of life, so no liveness check is needed (§2.4:
    /// checks are only sent when nothing at all was heard).
    public func noteInboundTraffic(now: IKEInstant) {
        withUp { $0.noteInbound(now: now) }
    }

    /// Opens an SK payload and records the peer as alive; nil for anything that fails the ICV.
    func openAuthenticated(_ message: IKEMessage, _ datagram: IKEDatagram, _ up: inout IKEEstablishedSA,
                           now: IKEInstant) -> [IKEPayload]? {
        guard let inner = openProtected(message, datagram) else { return nil }
        up.noteInbound(now: now)
        followPeerEndpoint(datagram, &up)
        return inner
    }

    // MARK: Child SAs (§2.8)

    /// A uniform fraction in 0...1 from the injected randomness.
    func randomFraction() -> Double {
        guard let r = try? random.bytes(2) else { return 0.5 }
        return Double(UInt16(r[0]) << 8 | UInt16(r[1])) / 65535
    }

    /// §2.8: rekey before the hard lifetime, `margin` plus a random part of `jitter` early.
    func rekeyDelay(lifetime: Double, margin: Double, jitter: Double) -> Double {
        let delay = lifetime - margin - max(0, jitter) * randomFraction()
        return max(min(1, lifetime / 2), delay)
    }

    /// Tracks a new Child SA and hands it to the data plane (`childSAReady`).
    func addChild(_ parameters: ChildSAParameters, to up: inout IKEEstablishedSA, now: IKEInstant,
                  phase: IKEChildSA.Phase = .installed) {
        let lifetime = configuration.childLifetimeSeconds
        let rekey = rekeyDelay(lifetime: lifetime, margin: configuration.childRekeyMarginSeconds,
                               jitter: configuration.childRekeyJitterSeconds)
        up.children.append(IKEChildSA(parameters: parameters, phase: phase, rekeyAt: now.adding(seconds: rekey),
                                      expireAt: now.adding(seconds: lifetime)))
        if parameters.activateOutbound || up.activeOutbound == nil { up.activeOutbound = parameters.inboundSPI }
        if up.lastInbound == nil { up.lastInbound = now }
        var announced = parameters
        if up.activeOutbound == parameters.inboundSPI { announced.activateOutbound = true }
        emit(.childSAReady(announced))
    }

    /// Makes another installed SA the outbound one (`childSAOutboundActivated`).
    func activate(_ inbound: ESPSPI, _ up: inout IKEEstablishedSA) {
        guard up.activeOutbound != inbound, let c = up.children.first(where: { $0.inboundSPI == inbound }) else { return }
        up.activeOutbound = inbound
        emit(.childSAOutboundActivated(inboundSPI: c.inboundSPI, outboundSPI: c.outboundSPI))
    }

    /// Removes a Child SA (`childSADeleted`). Make-before-break: when it carried the outbound
    /// traffic, its successor (or the newest SA left) is activated first.
    func removeChild(_ inbound: ESPSPI, _ up: inout IKEEstablishedSA) {
        guard let i = up.childIndex(inbound: inbound) else { return }
        let child = up.children.remove(at: i)
        if up.activeOutbound == inbound {
            up.activeOutbound = nil
            let usable: (IKEChildSA) -> Bool = { $0.phase != .deleting && $0.phase != .redundant }
            let next = child.successor.flatMap { s in up.children.first { $0.inboundSPI == s } }
                ?? up.children.last(where: usable) ?? up.children.last
            if let next { activate(next.inboundSPI, &up) }
        }
        for j in up.children.indices where up.children[j].successor == inbound { up.children[j].successor = child.successor }
        up.pendingTasks.removeAll { $0 == .rekeyChild(inbound) }
        emit(.childSADeleted(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI))
    }

    /// Ends the up SA by a Delete (§1.4.1), whichever side sent it: its Child SAs go with it.
    func endDeleted(_ up: IKEEstablishedSA) {
        for child in up.children { emit(.childSADeleted(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI)) }
        window.outstanding = nil
        phase = .closed
        emit(.ikeSADeleted)
    }

    // MARK: Timers

    /// The earliest rekey, hard expiry or liveness check due; nil when none.
    func lifecycleDeadline(_ up: IKEEstablishedSA) -> IKEInstant? {
        guard state == .established else { return nil }
        var d: IKEInstant?
        func consider(_ t: IKEInstant) { d = d.map { min($0, t) } ?? t }
        for c in up.children {
            if c.phase == .installed { consider(c.rekeyAt) }
            if c.phase != .deleting { consider(c.expireAt) }
        }
        if let r = up.ikeRekeyAt { consider(r) }
        if configuration.dpdIntervalSeconds > 0, window.outstanding == nil, up.pendingTasks.isEmpty, let last = up.lastInbound {
            consider(last.adding(seconds: configuration.dpdIntervalSeconds))
        }
        return d
    }

    func lifecycleTimers(_ up: inout IKEEstablishedSA, now: IKEInstant) {
        for i in up.children.indices {
            if up.children[i].phase != .deleting, up.children[i].expireAt <= now {
                // §2.8: past the hard lifetime the SA must go, rekeyed or not.
                up.children[i].phase = .deleting
                let spi = up.children[i].inboundSPI
                up.pendingTasks.removeAll { $0 == .rekeyChild(spi) }
                up.enqueue(.deleteChildren([spi]))
            } else if up.children[i].phase == .installed, up.children[i].rekeyAt <= now {
                up.children[i].phase = .rekeying
                up.enqueue(.rekeyChild(up.children[i].inboundSPI))
            }
        }
        if let r = up.ikeRekeyAt, r <= now {
            up.ikeRekeyAt = nil
            if configuration.reauthenticate {
                // §2.8.3: reauthentication is the daemon's work (a whole new IKE SA).
                emit(.reauthenticationDue)
            } else {
                // §2.18: the IKE SA's soft lifetime; it waits behind what is outstanding (§2.3).
                up.enqueue(.rekeyIKE)
            }
        }
        if configuration.dpdIntervalSeconds > 0, window.outstanding == nil, up.pendingTasks.isEmpty, let last = up.lastInbound,
           now >= last.adding(seconds: configuration.dpdIntervalSeconds) {
            up.enqueue(.liveness)
        }
        startNextTask(&up, now: now)
    }

    // MARK: Task queue (§2.3)

    /// Starts the next queued exchange when nothing is outstanding. Runs under `withUp`.
    func startNextTask(_ up: inout IKEEstablishedSA, now: IKEInstant) {
        while state == .established, window.outstanding == nil, !up.pendingTasks.isEmpty {
            let task = up.pendingTasks.removeFirst()
            do {
                switch task {
                case .rekeyChild(let spi):
                    guard let i = up.childIndex(inbound: spi), up.children[i].phase == .rekeying else { continue }
                    try startChildRekey(spi, &up, now: now)
                case .deleteChildren(let spis):
                    let live = spis.filter { up.childIndex(inbound: $0) != nil }
                    guard !live.isEmpty else { continue }
                    try sendInformational([.delete(.childSAs(live))], now: now)
                    up.activeTask = .deleteChildren(live)
                case .liveness:
                    try sendInformational([], now: now)
                    up.activeTask = .liveness
                case .deleteIKE:
                    try sendInformational([.delete(.ikeSA)], now: now)
                    up.activeTask = .deleteIKE
                    phase = .modifying(deleting: true)  // `withUp` puts the data back as `.deleting`
                case .rekeyIKE:
                    try startIKERekey(&up, now: now)
                }
            } catch {
                fail(.internalError, "cannot start \(task) with \(peer): \(error)")
            }
        }
    }

    func sendInformational(_ payloads: [IKEPayload], now: IKEInstant) throws {
        let messageID = window.takeRequestID()
        let bytes = try sealed(header(.informational, messageID: messageID, response: false), payloads)
        sendRequest(bytes, exchange: .informational, messageID: messageID, now: now)
    }
}

extension IKESession {
    /// Rekeys the IKE SA now (`swanctl --rekey --ike`); the timer calls the same path at the
    /// IKE SA's soft lifetime (§2.18). Waits behind an outstanding request.
    public func rekeyIKESA(now: IKEInstant) {
        guard state == .established else { return }
        withUp { up in
            guard up.candidate == nil else { return }
            if case .rekeyIKE = up.activeTask { return }
            up.ikeRekeyAt = nil
            up.enqueue(.rekeyIKE)
            startNextTask(&up, now: now)
        }
    }

    /// Rekeys a Child SA now (the active one by default), as `swanctl --rekey` does; the timers
    /// call the same path at the soft lifetime (§2.8).
    public func rekeyChildSA(inboundSPI: ESPSPI? = nil, now: IKEInstant) {
        guard state == .established else { return }
        withUp { up in
            guard let spi = inboundSPI ?? up.activeOutbound, let i = up.childIndex(inbound: spi),
                  up.children[i].phase == .installed else { return }
            up.children[i].phase = .rekeying
            up.enqueue(.rekeyChild(spi))
            startNextTask(&up, now: now)
        }
    }
}

extension IKEEstablishedSA {
    /// The peer is alive (§2.4: checks are only sent when nothing at all was heard).
    mutating func noteInbound(now: IKEInstant) {
        if let last = lastInbound, last >= now { return }
        lastInbound = now
    }
}
