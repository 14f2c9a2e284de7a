import ESP
import IKEv2
import NetTypes

/// What the control plane asks the outbound worker to do. All `Sendable`: key material travels
/// as `ChildSAParameters` (its keys are `SecureBytes`), the worker builds the SA.
enum OutboundCommand: Sendable {
    case addPeer(String, TUNDevice)
    case removePeer(String)
    case install(peer: String, sa: ChildSAParameters, destination: SocketAddress, lifetime: ESPLifetime,
                 ivMask: UInt64, activate: Bool)
    case activate(peer: String, spi: ESPSPI)
    case delete(peer: String, spi: ESPSPI)
    /// RFC 7296 §2.23: the peer's NAT mapping moved; its ESP in UDP goes here from now on.
    case setDestination(peer: String, destination: SocketAddress)
    /// `mss-clamp` of the peer's tunnel (nil: off).
    case setMSSClamp(peer: String, limits: MSSClampLimits?)
}

/// What the control plane asks the inbound worker to do.
enum InboundCommand: Sendable {
    case install(sa: ChildSAParameters, device: TUNDevice, lifetime: ESPLifetime, replayWindowSize: Int)
    case delete(spi: ESPSPI)
    /// A datagram the daemon's own socket received (`handleInboundESP`).
    case datagram([UInt8])
    /// `mss-clamp` of the tunnel whose TUN is `device` (nil: off).
    case setMSSClamp(device: TUNDevice, limits: MSSClampLimits?)
}
