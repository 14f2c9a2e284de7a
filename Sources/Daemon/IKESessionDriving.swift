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
}
