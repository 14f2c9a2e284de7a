
/// Makes the session for one IKE SA with a configured peer: an initiator when the endpoint opens
/// the SA, a responder when the peer's IKE_SA_INIT request arrives (one session per IKE SA,
/// as the engine is built). The real factory maps the plan onto the engine's configuration
/// and credentials; tests pass a factory of scripted fakes.
public protocol IKESessionFactory {
    func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving
    /// `initialContact: false` for an initiator that reauthenticates (RFC 7296 §2.8.3): an
    /// INITIAL_CONTACT would make the peer drop the IKE SA that still carries the tunnel.
    func makeSession(for peer: IKETunnelPeer, initiator: Bool, initialContact: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving
    /// A responder for an IKE_SA_INIT from an address of no fixed peer, when `peers` (every
    /// `dynamic` one, in order) may have sent it: IKE_AUTH's identity picks one of them
    /// (`IKESessionDriving.selectedTunnel`, IKEDynamicPeers.swift).
    func makeDynamicResponder(for peers: [IKETunnelPeer]) throws(IKESessionFactoryError) -> any IKESessionDriving
}

extension IKESessionFactory {
    /// Factories whose sessions never send INITIAL_CONTACT (test doubles) ignore the flag.
    public func makeSession(for peer: IKETunnelPeer, initiator: Bool, initialContact: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        try makeSession(for: peer, initiator: initiator)
    }

    /// Factories without dynamic peers (test doubles of fixed peers) refuse.
    public func makeDynamicResponder(for peers: [IKETunnelPeer]) throws(IKESessionFactoryError) -> any IKESessionDriving {
        throw IKESessionFactoryError("no session for dynamic peers (\(peers.map(\.name).joined(separator: ", ")))")
    }
}

/// Why no session could be made for a peer (no plan for it, unusable credentials): logged by
/// the endpoint as `cannot create IKE session` with this message as the reason.
public struct IKESessionFactoryError: Error, Hashable, Sendable {
    public var message: String
    /// Not a failure: the session cannot be made yet (the peer's name is being looked up). The
    /// endpoint reports nothing, keeps its retry timer as a fallback, and the owner calls
    /// `IKESAManager.resume` when what was missing arrives.
    public var waiting: Bool
    public init(_ message: String, waiting: Bool = false) {
        self.message = message
        self.waiting = waiting
    }
}
