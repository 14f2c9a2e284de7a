// RFC 7296 §3.5 (IDi names the initiator), §2.15 (the peer is authenticated as that identity),
// §2.11 (responses go where the request came from): a responder that cannot tell its peer by the
// source address (`address: dynamic`: DHCP, PPPoE, LTE, carrier NAT) answers IKE_SA_INIT for all
// of its dynamic peers at once and picks the one whose identity IKE_AUTH carries, then goes on
// with that peer's configuration, as strongSwan switches to the peer config IDi selects.
import CryptoCore
import NetTypes

/// One peer that may come from any address: its tunnel, the configuration its IKE SA uses once
/// it is identified, and, when it differs from the session's, the authenticator that checks it.
public struct IKEDynamicPeer {
    public var tunnel: TunnelID
    public var configuration: IKEPeerConfiguration
    public var authenticator: (any PeerAuthenticator)?

    public init(tunnel: TunnelID, configuration: IKEPeerConfiguration, authenticator: (any PeerAuthenticator)? = nil) {
        self.tunnel = tunnel
        self.configuration = configuration
        self.authenticator = authenticator
    }
}

/// Where a responder session for an unknown source looks its peer up by IDi.
public protocol IKEDynamicPeerDirectory {
    /// The dynamic peer configured with `identity` as its peer identity; nil when none is.
    func peer(identifiedBy identity: IKEIdentification) -> IKEDynamicPeer?
    /// How many dynamic peers there are (for the refusal's log line).
    var count: Int { get }
}

/// The directory as a list, matched in order (`IKEIdentityText.matches`, the same check a
/// fixed peer's identity gets). A hub's few hundred spokes cost a few hundred comparisons per
/// IKE_AUTH, nothing beside its signature check.
public struct IKEDynamicPeerList: IKEDynamicPeerDirectory {
    public var peers: [IKEDynamicPeer]

    public init(_ peers: [IKEDynamicPeer]) { self.peers = peers }

    public func peer(identifiedBy identity: IKEIdentification) -> IKEDynamicPeer? {
        peers.first { p in p.configuration.peerIdentity.map { IKEIdentityText.matches(identity, $0) } ?? false }
    }

    public var count: Int { peers.count }

    /// The configuration a session for an unknown source starts with: the first peer's, offering
    /// in IKE_SA_INIT every IKE proposal any of them accepts (in the peers' order); the peer IDi
    /// names must then accept the one chosen (`IKESession` checks). Nil without peers.
    public var initialConfiguration: IKEPeerConfiguration? {
        guard var c = peers.first?.configuration else { return nil }
        var proposals: [IKEAlgorithmSet] = []
        for p in peers { for s in p.configuration.ikeProposals where !proposals.contains(s) { proposals.append(s) } }
        c.ikeProposals = proposals
        c.role = .responder
        c.peerIdentity = nil
        return c
    }
}

extension IKEAlgorithmSet {
    /// Whether `chosen` is one of the combinations this set offers.
    func allows(_ chosen: IKESelectedAlgorithms) -> Bool {
        encryption.contains(chosen.encryption) && prf.contains(chosen.prf) && groups.contains(chosen.group)
            && (chosen.integrity.map { integrity.contains($0) } ?? true)
            && IKEProposalSelection.additionalAllowed(chosen.additional, by: additional)
    }
}
