// RFC 7296 §2.8 (lifetimes and rekeying), §2.8.3 (reauthentication), §2.4 (liveness), §2.3 (one request at a time),
// §1.4.1 (deleting Child SAs): the timers and task queue of an established IKE SA.
import NetTypes

extension IKESession {
    /// The daemon saw ESP from the peer: proof of life, so no liveness check is needed (§2.4:
    /// checks are only sent when nothing at all was heard).
    public func noteInboundTraffic(now: IKEInstant) {
        if let last = lastInbound, last >= now { return }
        lastInbound = now
    }

    /// Opens an SK payload and records the peer as alive; nil for anything that fails the ICV.
    func openAuthenticated(_ message: IKEMessage, _ datagram: IKEDatagram, now: IKEInstant) -> [IKEPayload]? {
        guard let inner = openProtected(message, datagram) else { return nil }
        noteInboundTraffic(now: now)
        followPeerEndpoint(datagram)
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
    func addChild(_ parameters: ChildSAParameters, now: IKEInstant, phase: IKEChildSA.Phase = .installed) {
        let lifetime = configuration.childLifetimeSeconds
        let rekey = rekeyDelay(lifetime: lifetime, margin: configuration.childRekeyMarginSeconds,
                               jitter: configuration.childRekeyJitterSeconds)
        children.append(IKEChildSA(parameters: parameters, phase: phase, rekeyAt: now.adding(seconds: rekey),
                                   expireAt: now.adding(seconds: lifetime)))
        if parameters.activateOutbound || activeOutbound == nil { activeOutbound = parameters.inboundSPI }
        if lastInbound == nil { lastInbound = now }
        var announced = parameters
        if activeOutbound == parameters.inboundSPI { announced.activateOutbound = true }
        emit(.childSAReady(announced))
    }

    func childIndex(inbound spi: ESPSPI) -> Int? { children.firstIndex { $0.inboundSPI == spi } }

    /// Makes another installed SA the outbound one (`childSAOutboundActivated`).
    func activate(_ inbound: ESPSPI) {
        guard activeOutbound != inbound, let c = children.first(where: { $0.inboundSPI == inbound }) else { return }
        activeOutbound = inbound
        emit(.childSAOutboundActivated(inboundSPI: c.inboundSPI, outboundSPI: c.outboundSPI))
    }

    /// Removes a Child SA (`childSADeleted`). Make-before-break: when it carried the outbound
    /// traffic, its successor (or the newest SA left) is activated first.
    func removeChild(_ inbound: ESPSPI) {
        guard let i = childIndex(inbound: inbound) else { return }
        let child = children.remove(at: i)
        if activeOutbound == inbound {
            activeOutbound = nil
            let usable: (IKEChildSA) -> Bool = { $0.phase != .deleting && $0.phase != .redundant }
            let next = child.successor.flatMap { s in children.first { $0.inboundSPI == s } }
                ?? children.last(where: usable) ?? children.last
            if let next { activate(next.inboundSPI) }
        }
        for j in children.indices where children[j].successor == inbound { children[j].successor = child.successor }
        pendingTasks.removeAll { $0 == .rekeyChild(inbound) }
        emit(.childSADeleted(inboundSPI: child.inboundSPI, outboundSPI: child.outboundSPI))
    }

    // MARK: Timers

    /// The earliest rekey, hard expiry or liveness check due; nil when none.
    var lifecycleDeadline: IKEInstant? {
        guard state == .established else { return nil }
        var d: IKEInstant?
        func consider(_ t: IKEInstant) { d = d.map { min($0, t) } ?? t }
        for c in children {
            if c.phase == .installed { consider(c.rekeyAt) }
            if c.phase != .deleting { consider(c.expireAt) }
        }
        if let r = ikeRekeyAt { consider(r) }
        if configuration.dpdIntervalSeconds > 0, window.outstanding == nil, pendingTasks.isEmpty, let last = lastInbound {
            consider(last.adding(seconds: configuration.dpdIntervalSeconds))
        }
        return d
    }

    func lifecycleTimers(now: IKEInstant) {
        for i in children.indices {
            if children[i].phase != .deleting, children[i].expireAt <= now {
                // §2.8: past the hard lifetime the SA must go, rekeyed or not.
                children[i].phase = .deleting
                let spi = children[i].inboundSPI
                pendingTasks.removeAll { $0 == .rekeyChild(spi) }
                enqueue(.deleteChildren([spi]))
            } else if children[i].phase == .installed, children[i].rekeyAt <= now {
                children[i].phase = .rekeying
                enqueue(.rekeyChild(children[i].inboundSPI))
            }
        }
        if let r = ikeRekeyAt, r <= now {
            ikeRekeyAt = nil
            if configuration.reauthenticate {
                // §2.8.3: reauthentication is the daemon's work (a whole new IKE SA).
                emit(.reauthenticationDue)
            } else {
                // §2.18: the IKE SA's soft lifetime; it waits behind what is outstanding (§2.3).
                enqueue(.rekeyIKE)
            }
        }
        if configuration.dpdIntervalSeconds > 0, window.outstanding == nil, pendingTasks.isEmpty, let last = lastInbound,
           now >= last.adding(seconds: configuration.dpdIntervalSeconds) {
            enqueue(.liveness)
        }
        startNextTask(now: now)
    }

    // MARK: Task queue (§2.3)

    func enqueue(_ task: IKELocalTask) {
        if !pendingTasks.contains(task) { pendingTasks.append(task) }
    }

    /// Starts the next queued exchange when nothing is outstanding.
    func startNextTask(now: IKEInstant) {
        while state == .established, window.outstanding == nil, !pendingTasks.isEmpty {
            let task = pendingTasks.removeFirst()
            do {
                switch task {
                case .rekeyChild(let spi):
                    guard let i = childIndex(inbound: spi), children[i].phase == .rekeying else { continue }
                    try startChildRekey(spi, now: now)
                case .deleteChildren(let spis):
                    let live = spis.filter { childIndex(inbound: $0) != nil }
                    guard !live.isEmpty else { continue }
                    try sendInformational([.delete(.childSAs(live))], now: now)
                    activeTask = .deleteChildren(live)
                case .liveness:
                    try sendInformational([], now: now)
                    activeTask = .liveness
                case .deleteIKE:
                    try sendInformational([.delete(.ikeSA)], now: now)
                    activeTask = .deleteIKE
                    state = .deleting
                case .rekeyIKE:
                    try startIKERekey(now: now)
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
        guard state == .established, candidate == nil else { return }
        if case .rekeyIKE = activeTask { return }
        ikeRekeyAt = nil
        enqueue(.rekeyIKE)
        startNextTask(now: now)
    }

    /// Rekeys a Child SA now (the active one by default), as `swanctl --rekey` does; the timers
    /// call the same path at the soft lifetime (§2.8).
    public func rekeyChildSA(inboundSPI: ESPSPI? = nil, now: IKEInstant) {
        guard state == .established, let spi = inboundSPI ?? activeOutbound, let i = childIndex(inbound: spi),
              children[i].phase == .installed else { return }
        children[i].phase = .rekeying
        enqueue(.rekeyChild(spi))
        startNextTask(now: now)
    }
}
