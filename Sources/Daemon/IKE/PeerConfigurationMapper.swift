import ViaductCrypto
import CryptoCore
import IKEv2
import PKI
import Topology

/// Turns one planned tunnel into the engine's `IKEPeerConfiguration`: proposals (the
/// topology's strongSwan-syntax `Proposal`s are already algorithm lists), identities in IKE
/// form (RFC 7296 §3.5), addresses, role, lifetimes with their rekey margin and jitter, DPD,
/// the ESP proposals' PFS groups (used on Child SA rekeys), and reauthentication (RFC 7296 §2.8.3). Pure: the wall clock arrives as a value.
public enum PeerConfigurationMapper {
    ///
    /// - Parameter dataplane: what the chosen data plane can install (`DataplaneBackend.espSupport`):
    ///   ESP transforms it cannot carry are left out of what we offer and accept, so a peer that
    ///   insists on one gets NO_PROPOSAL_CHOSEN instead of a Child SA that carries nothing.
    /// - Parameter pathMTU: the underlay path MTU to the peer, for `ike.fragment-size: auto`
    ///   (nil when unknown: `IKEFragmentSize.fallback`).
    public static func configuration(for tunnel: TunnelPlan, ports: IKEPorts, wallClock: IKEWallClock,
                                     initiator: Bool, forceUDPEncapsulation: Bool = false,
                                     retransmission: IKERetransmissionPolicy = IKERetransmissionPolicy(),
                                     dataplane: DataplaneKind = .kernel,
                                     pathMTU: Int? = nil) throws(DaemonError) -> IKEPeerConfiguration {
        let ike = tunnel.ike
        let ikeProposals = ike.proposals.map(IKEAlgorithmSet.init(proposal:))
        let esp = Self.espProposals(for: tunnel, dataplane: dataplane)
        let espProposals = esp.kept.map {
            ESPAlgorithmSet(encryption: $0.encryption, integrity: $0.integrity, esn: $0.esn, groups: $0.keyExchange)
        }
        guard !ikeProposals.isEmpty else {
            throw DaemonError(.configuration, "tunnel to \(tunnel.peer): no IKE proposal")
        }
        // A responder with nothing to accept still answers: the peer gets NO_PROPOSAL_CHOSEN in
        // IKE_AUTH (RFC 7296 §1.2), and `status` says which transform the data plane lacks.
        guard !espProposals.isEmpty || !initiator else {
            let why = esp.dropped.isEmpty ? "" : ": \(esp.dropped.joined(separator: "; "))"
            throw DaemonError(.configuration, "tunnel to \(tunnel.peer): no ESP proposal the \(dataplane.rawValue) data plane can carry in [\(tunnel.esp.proposals.map(\.description).joined(separator: ", "))]\(why)")
        }
        return IKEPeerConfiguration(
            role: initiator ? .initiator : .responder,
            local: IKEEndpoint(address: ike.localAddress.bytes, port: ports.ike),
            peer: IKEEndpoint(address: ike.peerAddress.bytes, port: ports.ike),
            localIdentity: try identity(ike.localIdentity, tunnel: tunnel.peer),
            peerIdentity: try identity(ike.peerIdentity, tunnel: tunnel.peer),
            ikeProposals: ikeProposals, espProposals: espProposals,
            ikeLifetimeSeconds: Double(ike.lifetime.seconds),
            childLifetimeSeconds: Double(tunnel.esp.lifetime.seconds),
            retransmission: retransmission,
            forceUDPEncapsulation: forceUDPEncapsulation,
            wallClock: wallClock,
            childRekeyMarginSeconds: Double(tunnel.esp.rekeyMargin.seconds),
            childRekeyJitterSeconds: Double(tunnel.esp.rekeyJitter.seconds),
            ikeRekeyMarginSeconds: Double(ike.rekeyMargin.seconds),
            ikeRekeyJitterSeconds: Double(ike.rekeyJitter.seconds),
            dpdIntervalSeconds: Double(ike.dpd.interval.seconds),
            dpdAction: IKEDPDAction(rawValue: ike.dpd.action.rawValue) ?? .restart,
            natKeepaliveSeconds: Double(ike.natKeepalive.seconds),
            fragmentation: IKEFragmentationPolicy(enabled: ike.fragmentation, maxDatagramSize: ike.fragmentSize.size(pathMTU: pathMTU)),
            reauthenticate: ike.reauthenticate)
    }

    /// RFC 7296 §3.5 ID types from the topology's identity.
    public static func identity(_ id: Identity, tunnel: String) throws(DaemonError) -> IKEIdentity {
        switch id {
        case .ipAddress(let a):
            let b = a.bytes
            if b.count == 4, let v4 = IKEIPv4Address(bytes: b) { return .ipv4(v4) }
            if b.count == 16, let v6 = IKEIPv6Address(bytes: b) { return .ipv6(v6) }
            throw DaemonError(.configuration, "tunnel to \(tunnel): identity \(id) is not an IP address")
        case .fqdn(let s): return .fqdn(s)
        case .email(let s): return .rfc822(s)
        case .distinguishedName(let s):
            do {
                return .derASN1DN(try DistinguishedName(parsing: s).der)
            } catch {
                throw DaemonError(.configuration, "tunnel to \(tunnel): identity '\(s)' is not a distinguished name: \(error)")
            }
        }
    }

    /// The tunnel's ESP proposals cut to what `dataplane` can carry, and why each cut was made
    /// (`DataplaneKind.carried`); the daemon logs the reasons at start-up and `status` repeats them.
    public static func espProposals(for tunnel: TunnelPlan, dataplane: DataplaneKind) -> (kept: [Proposal], dropped: [String]) {
        var kept: [Proposal] = []
        var dropped: [String] = []
        for p in tunnel.esp.proposals {
            let c = dataplane.carried(p)
            if let k = c.kept { kept.append(k) }
            for d in c.dropped where !dropped.contains(d) { dropped.append(d) }
        }
        return (kept, dropped)
    }
}

extension IKEAlgorithmSet {
    /// The engine's form of a topology IKE proposal, RFC 9370 additional key exchanges included.
    public init(proposal p: Proposal) {
        self.init(encryption: p.encryption, integrity: p.integrity, prf: p.prf, groups: p.keyExchange,
                  additional: p.additionalKeyExchanges.map { IKEAdditionalKeyExchange(index: $0.key, groups: $0.value) })
    }
}
