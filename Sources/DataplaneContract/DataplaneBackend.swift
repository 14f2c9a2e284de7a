import IKEv2
import NetTypes
import Topology

/// Packet and byte counts of one Child SA, as the data plane sees them.
public struct ChildSACounters: Hashable, Sendable {
    public var inboundPackets: UInt64 = 0
    public var inboundBytes: UInt64 = 0
    public var outboundPackets: UInt64 = 0
    public var outboundBytes: UInt64 = 0
    public init() {}
}

/// Where negotiated Child SAs go: the kernel (XFRM states bound to a tunnel interface) or
/// Viaduct's userspace ESP. The daemon installs inbound before outbound (`install` receives
/// both halves; implementations keep that order) and deletes on `childSADeleted`.
/// Implementations must never log or persist key material. They throw `DataplaneError`s whose
/// `message` says what they were doing (`DataplaneError.context`); the daemon logs that message.
public protocol DataplaneBackend: AnyObject {
    var name: String { get }
    /// Which ESP transforms this data plane can install (`DataplaneKind.refusal`): `.kernel` or
    /// `.userspace`. The daemon offers and accepts only those (`PeerConfigurationMapper`), so a
    /// Child SA it cannot carry is never negotiated.
    var espSupport: DataplaneKind { get }
    func install(_ sa: ChildSAParameters, tunnel: TunnelID) throws(DataplaneError)
    func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError)
    func counters(inboundSPI: ESPSPI) -> ChildSACounters?
    /// Rekey responder (RFC 7296 §2.8): start sending on an installed Child SA that was
    /// installed with `activateOutbound == false`.
    func activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError)
    /// `viaduct apply`: takes a new plan. Peers missing from it are forgotten (the daemon has
    /// deleted their Child SAs before) and their interfaces go; new peers get theirs (down until
    /// their first Child SA); then the kernel is reconciled to the plan. Peers in both plans
    /// keep their SAs and link state. Called once with removals only, then once with additions.
    func update(plan: NodePlan) throws(DataplaneError)
    /// RFC 7296 §2.23: the peer's NAT moved it to `peerEndpoint` (its IKE address and port);
    /// ESP in UDP of this Child SA goes there from now on.
    func updatePeerEndpoint(inboundSPI: ESPSPI, peerEndpoint: IKEEndpoint, tunnel: TunnelID) throws(DataplaneError)
}

extension DataplaneBackend {
    /// Test doubles carry whatever is negotiated.
    public var espSupport: DataplaneKind { .kernel }

    /// Backends without a notion of a current outbound SA have nothing to switch.
    public func activateOutbound(inboundSPI: ESPSPI, outboundSPI: ESPSPI, tunnel: TunnelID) throws(DataplaneError) {}

    /// Backends that address no peer themselves (test doubles) have nothing to follow.
    public func updatePeerEndpoint(inboundSPI: ESPSPI, peerEndpoint: IKEEndpoint, tunnel: TunnelID) throws(DataplaneError) {}
}
