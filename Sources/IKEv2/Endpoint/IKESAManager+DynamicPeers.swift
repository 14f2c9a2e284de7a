// RFC 7296 §3.5 (IDi), §2.15 (the identity the peer authenticates as), §2.11 (answers go where
// the request came from), §2.4 (INITIAL_CONTACT), RFC 8019 (admission per source): peers with
// `address: dynamic`. Their IKE_SA_INIT may come from any address; admission treats it like
// any other (per-source limits, cookies); one responder session answers for all of them and
// IKE_AUTH's identity files it under its own tunnel. A peer that comes back from a new address
// opens a new IKE SA, which replaces the old one by INITIAL_CONTACT or the duplicate rule.
import NetTypes

extension IKESAManager {
    /// A new IKE_SA_INIT from an address of no fixed peer while dynamic peers are configured.
    func receiveDynamic(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant) {
        let candidates = table.dynamicPeerIndices
        guard let first = candidates.first else { return }
        openResponder(datagram, header: header, now: now, peerIndex: first, name: "(dynamic)", provisional: true,
                      message: "IKE SA requested from an address of no fixed peer: IKE_AUTH's identity picks the dynamic peer",
                      metadata: ["candidates": "\(candidates.count)"]) { () throws(IKESessionFactoryError) in
            try factory.makeDynamicResponder(for: candidates.map { table[peer: $0].peer })
        }
    }

    /// Files a provisional session under the peer its IKE_AUTH named; true when it is (now)
    /// a tunnel's session. Until then its events belong to no tunnel: a failure (a scanner's
    /// half-open timeout, an identity no dynamic peer has) is logged and the session ends.
    func identified(_ id: IKESATable.SessionID, now: IKEInstant) -> Bool {
        guard let entry = table.sessions[id], entry.provisional else { return true }
        if let tunnel = entry.session.selectedTunnel {
            guard let index = table.peerIndex(of: tunnel), table[peer: index].peer.dynamic else {
                // Removed by `apply` during the handshake: nothing to file it under.
                log(.notice, "dynamic peer identified but no longer configured: dropped", ["peer": "\(tunnel)"])
                _ = table.withSession(id) { $0.close(now: now) }
                flushTransmit(id)
                endProvisional(id)
                return false
            }
            table.sessions[id]?.peerIndex = index
            table.sessions[id]?.provisional = false
            log(.info, "dynamic peer identified", ["peer": "\(tunnel)", "spi": "\(SPIText.ike(entry.session.localIKESPIs.first ?? .zero))"])
            return true
        }
        while let e = table.withSession(id, { $0.pollEvent() }) ?? nil {
            switch e {
            case .ikeSAFailed(let f):
                var metadata = ["reason": "\(f.code.rawValue)", "detail": "\(f.message)"]
                if let n = f.notify { metadata["notify"] = "\(NotifyName.of(n))" }
                log(f.code == .identityMismatch ? .warning : .info,
                    f.code == .identityMismatch ? "refused an IKE SA: its identity is no dynamic peer's" : "IKE SA from an unidentified address failed",
                    metadata)
                endProvisional(id)
            case .ikeSADeleted:
                endProvisional(id)
            default:
                break
            }
        }
        return false
    }

    private func endProvisional(_ id: IKESATable.SessionID) {
        table.sessions[id]?.finished = true
        sessionStoppedBeingHalfOpen(id)
    }

    /// Where a dynamic peer's current IKE SA has it (its latest authenticated request), nil
    /// without one; status shows it instead of the unspecified address of the plan.
    public func currentRemote(of tunnel: TunnelID) -> IKEEndpoint? {
        guard let index = table.peerIndex(of: tunnel) else { return nil }
        let live = table.sessionIDs(ofPeer: index) { $0.isEstablished && !$0.finished && $0.successor == nil }
        guard let newest = live.last else { return nil }
        return table.sessions[newest]?.session.peerEndpoint
    }

    /// A peer's DNS name resolved anew (the daemon's resolver): datagrams from `addresses`
    /// route to it and new IKE SAs go to `remote`. The IKE SAs it has stay where they are
    /// until they end (the re-initiation then uses the new address). False for an unknown peer.
    @discardableResult
    public func updateAddresses(of tunnel: TunnelID, addresses: [[UInt8]], remote: IKEEndpoint) -> Bool {
        guard let index = table.peerIndex(of: tunnel) else { return false }
        let before = table[peer: index].peer.remote
        table.setAddresses(addresses, remote: remote, ofPeer: index)
        if before != remote {
            log(.notice, "peer address resolved anew", ["peer": "\(tunnel)", "from": "\(before)", "to": "\(remote)"])
        }
        return true
    }
}
