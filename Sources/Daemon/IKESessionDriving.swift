import IKEv2

/// The shape of the sans-I/O IKE session as the daemon drives it (Sources/IKEv2/Session's
/// contract: feed datagrams and timeouts, poll transmissions, events and the next deadline).
/// The daemon depends on this protocol rather than the concrete engine type so the event loop
/// can be tested with a scripted fake session, and so a session that fails to build never
/// takes the loop with it.
public protocol IKESessionDriving {
    /// Begins: an initiator sends IKE_SA_INIT; a responder waits.
    mutating func start(now: IKEInstant)
    /// A datagram from the peer (marker already stripped).
    mutating func receive(_ datagram: IKEDatagram, now: IKEInstant)
    /// Called at or after `nextDeadline`.
    mutating func timeout(now: IKEInstant)
    mutating func pollTransmit() -> IKEDatagram?
    mutating func pollEvent() -> IKEEvent?
    var nextDeadline: IKEInstant? { get }
    /// Our IKE SPIs of every IKE SA the session answers to. An IKE SA rekey (RFC 7296 §2.18)
    /// changes them, and the peer may use the new SPI before we have sent anything on it, so
    /// the daemon routes by this list rather than only by what the session sent.
    var localIKESPIs: [UInt64] { get }
    /// Deletes an established IKE SA (INFORMATIONAL Delete); nothing for one that is not up.
    mutating func close(now: IKEInstant)
    /// An operator's request (`viaduct rekey`, `viaduct terminate`); false when the session
    /// has no established SA to apply it to.
    mutating func perform(_ command: SessionCommand, now: IKEInstant) -> Bool
}

extension IKESessionDriving {
    /// Sessions that never rekey their IKE SA are routed by the SPIs seen in what they send.
    public var localIKESPIs: [UInt64] { [] }
    public mutating func close(now: IKEInstant) {}
    public mutating func perform(_ command: SessionCommand, now: IKEInstant) -> Bool { false }
}
