import NetTypes

/// One IKE SA's session as the endpoint drives it (Sources/IKEv2/Session's contract: feed
/// datagrams and timeouts, poll transmissions, events and the next deadline). The endpoint
/// depends on this protocol rather than the concrete `IKESession` so it can be tested with
/// scripted fake sessions.
public protocol IKESessionDriving {
    /// Begins: an initiator sends IKE_SA_INIT; a responder waits.
    mutating func start(now: IKEInstant)
    /// A datagram from the peer (marker already stripped) with its header, which the endpoint
    /// decoded to route it here.
    mutating func receive(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant)
    /// Called at or after `nextDeadline`.
    mutating func timeout(now: IKEInstant)
    mutating func pollTransmit() -> IKEDatagram?
    mutating func pollEvent() -> IKEEvent?
    var nextDeadline: IKEInstant? { get }
    /// Our IKE SPIs of every IKE SA the session answers to. An IKE SA rekey (RFC 7296 §2.18)
    /// changes them, and the peer may use the new SPI before we have sent anything on it, so
    /// the endpoint routes by this list, never by parsing what the session sent.
    var localIKESPIs: [IKESPI] { get }
    /// Deletes an established IKE SA (INFORMATIONAL Delete); nothing for one that is not up.
    mutating func close(now: IKEInstant)
    /// An operator's request (`viaduct rekey`, `viaduct terminate`); false when the session
    /// has no established SA to apply it to.
    mutating func perform(_ command: SessionCommand, now: IKEInstant) -> Bool
    /// Deletes the Child SA whose inbound SPI is `inboundSPI` (RFC 7296 §1.4.1); false when the
    /// session holds no such Child SA (or it is already being deleted).
    mutating func deleteChild(inboundSPI: ESPSPI, now: IKEInstant) -> Bool
    /// The next IKE SA it no longer uses (RFC 7296 §2.18: the one an IKE SA rekey replaced;
    /// §2.8.2: a collision's redundant one), which the endpoint holds as an entry of its own.
    mutating func pollRetired() -> IKESideSA?
    /// What one of its retired IKE SAs heard (the peer is alive; it deleted Child SAs through
    /// the old SA); returns our inbound SPIs of the Child SAs it removed, for the answer.
    mutating func relayed(_ relay: IKESARelay, now: IKEInstant) -> [ESPSPI]
    /// A responder for an unknown source: the dynamic peer IKE_AUTH identified, nil before
    /// (and for every other session).
    var selectedTunnel: TunnelID? { get }
    /// Where the session sends (its peer's address and port); nil when it cannot say.
    var peerEndpoint: IKEEndpoint? { get }
    /// The rekeys it scheduled (IKERekeyDeadlines.swift); nil when it cannot say.
    var rekeyDeadlines: IKERekeyDeadlines? { get }
}

extension IKESessionDriving {
    public mutating func close(now: IKEInstant) {}
    public mutating func perform(_ command: SessionCommand, now: IKEInstant) -> Bool { false }
    public mutating func deleteChild(inboundSPI: ESPSPI, now: IKEInstant) -> Bool { false }
    public mutating func pollRetired() -> IKESideSA? { nil }
    public mutating func relayed(_ relay: IKESARelay, now: IKEInstant) -> [ESPSPI] { [] }
    public var selectedTunnel: TunnelID? { nil }
    public var peerEndpoint: IKEEndpoint? { nil }
    public var rekeyDeadlines: IKERekeyDeadlines? { nil }
}

/// The engine is what the endpoint drives in production.
extension IKESession: IKESessionDriving {
    public var peerEndpoint: IKEEndpoint? { peer }
}
