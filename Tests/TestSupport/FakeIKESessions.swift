import CryptoCore
import IKEv2
import NetTypes

/// Builds an IKE header (RFC 7296 §3.1) with the given SPIs, exchange and flags, plus `extra`
/// payload bytes, for routing tests. Not a valid message beyond the header.
public func ikeMessage(spiI: UInt64, spiR: UInt64, exchange: UInt8 = 34, initiator: Bool, response: Bool,
                       messageID: UInt32 = 0, extra: [UInt8] = []) -> [UInt8] {
    var b: [UInt8] = []
    for v in [spiI, spiR] { for s in stride(from: 56, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    b += [33, 0x20, exchange, (initiator ? 0x08 : 0) | (response ? 0x20 : 0)]
    for s in stride(from: 24, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: messageID >> UInt32(s))) }
    let len = UInt32(28 + extra.count)
    for s in stride(from: 24, through: 0, by: -8) { b.append(UInt8(truncatingIfNeeded: len >> UInt32(s))) }
    return b + extra
}

public let gwA: [UInt8] = [192, 0, 2, 1]
public let gwB: [UInt8] = [192, 0, 2, 2]
public let stranger: [UInt8] = [203, 0, 113, 9]

/// A scripted session: records what it was fed; its replies and events are queued by the test.
/// The endpoint's tests (IKEv2Tests) and the daemon's (EndpointDriver, PlanApplier) share it.
public final class FakeSession: IKESessionDriving {
    public let initiator: Bool
    public let spi: UInt64
    public let local: IKEEndpoint
    public let peer: IKEEndpoint
    public var received: [IKEDatagram] = []
    public var started: [IKEInstant] = []
    public var timeouts: [IKEInstant] = []
    public var transmit: [IKEDatagram] = []
    public var events: [IKEEvent] = []
    public var nextDeadline: IKEInstant?
    /// Called on receive: lets a test script an answer.
    public var onReceive: ((FakeSession, IKEDatagram) -> Void)?
    /// What `localIKESPIs` reports (empty: its own `spi`, as before an IKE SA rekey).
    public var spis: [UInt64] = []
    public var closes: [IKEInstant] = []
    /// Events queued when `close` is called (e.g. the Delete's answer).
    public var onClose: [IKEEvent] = []
    public var commands: [SessionCommand] = []
    public var acceptsCommands = true
    /// The inbound SPIs `deleteChild` was asked to delete.
    public var childDeletes: [ESPSPI] = []
    /// What it reports as its scheduled rekeys (nil: none, as before it is established).
    public var rekeyDeadlines: IKERekeyDeadlines?

    public init(initiator: Bool, spi: UInt64, local: IKEEndpoint, peer: IKEEndpoint) {
        self.initiator = initiator
        self.spi = spi
        self.local = local
        self.peer = peer
    }

    public func start(now: IKEInstant) {
        started.append(now)
        guard initiator else { return }
        transmit.append(IKEDatagram(bytes: ikeMessage(spiI: spi, spiR: 0, initiator: true, response: false),
                                    source: local, destination: peer))
        nextDeadline = now.adding(seconds: 4)
    }

    public func receive(_ datagram: IKEDatagram, header: IKEHeader, now: IKEInstant) {
        received.append(datagram)
        onReceive?(self, datagram)
    }

    public func timeout(now: IKEInstant) { timeouts.append(now); nextDeadline = nil }
    public var localIKESPIs: [IKESPI] { (spis.isEmpty ? [spi] : spis).map { IKESPI($0) } }
    public func close(now: IKEInstant) {
        closes.append(now)
        events += onClose
    }
    public func perform(_ command: SessionCommand, now: IKEInstant) -> Bool {
        commands.append(command)
        return acceptsCommands
    }
    public func deleteChild(inboundSPI: ESPSPI, now: IKEInstant) -> Bool {
        childDeletes.append(inboundSPI)
        return acceptsCommands
    }
    public func pollTransmit() -> IKEDatagram? { transmit.isEmpty ? nil : transmit.removeFirst() }
    public func pollEvent() -> IKEEvent? { events.isEmpty ? nil : events.removeFirst() }
}

/// Hands out FakeSessions with SPIs 0x1000, 0x1001, ... and keeps them for inspection.
public final class FakeFactory: IKESessionFactory {
    public var made: [FakeSession] = []
    public var nextSPI: UInt64 = 0x1000
    public var responderScript: ((FakeSession, IKEDatagram) -> Void)?

    public init() {}

    public func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        let s = FakeSession(initiator: initiator, spi: nextSPI, local: peer.local, peer: peer.remote)
        nextSPI += 1
        if !initiator { s.onReceive = responderScript }
        made.append(s)
        return s
    }
}

/// A factory that cannot make sessions (e.g. the node's certificate became unusable).
public final class FailingFactory: IKESessionFactory {
    public init() {}

    public func makeSession(for peer: IKETunnelPeer, initiator: Bool) throws(IKESessionFactoryError) -> any IKESessionDriving {
        throw IKESessionFactoryError("no usable certificate")
    }
}

/// A Child SA between gwA and gwB (UDP 4500) as a scripted session reports it: outbound SPI
/// `inbound + 1`, fixed keys.
public func scriptedChildSA(_ inbound: UInt32, activate: Bool = true) -> ChildSAParameters {
    var sa = ChildSAParameters(inboundSPI: ESPSPI(inbound), outboundSPI: ESPSPI(inbound + 1), encryption: .aesGCM16(keyBits: 256), integrity: nil,
                               extendedSequenceNumbers: false, inboundEncryptionKey: SecureBytes([UInt8](repeating: 7, count: 36)),
                               outboundEncryptionKey: SecureBytes([UInt8](repeating: 8, count: 36)), inboundIntegrityKey: nil,
                               outboundIntegrityKey: nil, local: IKEEndpoint(address: gwA, port: 4500),
                               peer: IKEEndpoint(address: gwB, port: 4500), udpEncapsulation: true, lifetimeSeconds: 3600)
    sa.activateOutbound = activate
    return sa
}

/// HDR(SPIi,0), [N(COOKIE),] Ni from `address` (default gwB) to gwA, port 500: a new IKE SA's
/// first request as the admission gate sees it.
public func ikeSAInitRequest(spi: UInt64, cookie: [UInt8]? = nil, from address: [UInt8] = gwB) throws -> IKEDatagram {
    var payloads: [IKEPayload] = cookie.map { [.notify(IKENotify(type: .cookie, data: $0))] } ?? []
    payloads.append(.nonce(IKENonce(data: Array(repeating: UInt8(truncatingIfNeeded: spi), count: 32))))
    let h = IKEHeader(initiatorSPI: IKESPI(spi), exchangeType: .ikeSAInit, flags: [.initiator], messageID: 0)
    return IKEDatagram(bytes: try IKEMessage(header: h, payloads: payloads).encoded(),
                       source: IKEEndpoint(address: address, port: 500), destination: IKEEndpoint(address: gwA, port: 500))
}
