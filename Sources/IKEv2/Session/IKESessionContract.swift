import CryptoCore
import NetTypes

// The contract between the sans-I/O IKEv2 engine and the daemon that drives it (DESIGN.md:
// "IKESession is fed receive(datagram:from:now:) and timeout(now:), and you poll it for outgoing
// datagrams, events and nextDeadline"). The daemon owns sockets and clocks; the engine owns
// protocol state. Additions are fine; changes to these shapes need both sides updated.

/// Monotonic time in nanoseconds since an arbitrary origin. The daemon maps its clock onto it;
/// tests use a fake clock. Never the wall clock.
public struct IKEInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static func seconds(_ s: Double) -> IKEInstant { IKEInstant(nanoseconds: UInt64(s * 1e9)) }

    public func adding(seconds: Double) -> IKEInstant {
        IKEInstant(nanoseconds: nanoseconds &+ UInt64(max(0, seconds) * 1e9))
    }

    public func seconds(since earlier: IKEInstant) -> Double {
        nanoseconds >= earlier.nanoseconds ? Double(nanoseconds - earlier.nanoseconds) / 1e9 : 0
    }

    public static func < (a: IKEInstant, b: IKEInstant) -> Bool { a.nanoseconds < b.nanoseconds }
    public var description: String { "t+\(Double(nanoseconds) / 1e9)s" }
}

/// A UDP endpoint: an IPv4 (4 bytes) or IPv6 (16 bytes) address and a port.
public struct IKEEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: [UInt8]
    public var port: UInt16

    public init(address: [UInt8], port: UInt16) {
        self.address = address
        self.port = port
    }

    public var isIPv6: Bool { address.count == 16 }

    public var description: String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") + ":\(port)" }
        var groups: [String] = []
        for i in stride(from: 0, to: address.count - 1, by: 2) {
            groups.append(String(UInt16(address[i]) << 8 | UInt16(address[i + 1]), radix: 16))
        }
        return "[\(groups.joined(separator: ":"))]:\(port)"
    }
}

/// One IKE message on the wire. `bytes` never includes the 4-byte non-ESP marker: the daemon
/// strips it on receive from port 4500 and adds it on send whenever either port is 4500
/// (RFC 3948 §2.2, RFC 7296 §2.23).
public struct IKEDatagram: Hashable, Sendable {
    public var bytes: [UInt8]
    public var source: IKEEndpoint
    public var destination: IKEEndpoint

    public init(bytes: [UInt8], source: IKEEndpoint, destination: IKEEndpoint) {
        self.bytes = bytes
        self.source = source
        self.destination = destination
    }
}

/// Keys and parameters of one established Child SA, for the data plane. Inbound means
/// peer -> us (our SPI, which the peer puts in its ESP packets); outbound means us -> peer.
public struct ChildSAParameters: Sendable {
    public var inboundSPI: ESPSPI
    public var outboundSPI: ESPSPI
    public var encryption: EncryptionAlgorithm
    public var integrity: IntegrityAlgorithm?
    public var extendedSequenceNumbers: Bool
    /// Encryption key material including the AEAD salt (EncryptionAlgorithm.keyMaterialLength).
    public var inboundEncryptionKey: SecureBytes
    public var outboundEncryptionKey: SecureBytes
    public var inboundIntegrityKey: SecureBytes?
    public var outboundIntegrityKey: SecureBytes?
    /// Tunnel endpoints (the IKE SA's current addresses).
    public var local: IKEEndpoint
    public var peer: IKEEndpoint
    /// ESP in UDP (RFC 3948) on port 4500: true when NAT was detected or encapsulation is forced.
    public var udpEncapsulation: Bool
    /// Seconds until the hard lifetime; the engine rekeys before it.
    public var lifetimeSeconds: Double
    /// False for the responder of a rekey (RFC 7296 §2.8): it installs the new SA but keeps
    /// sending on the old one until `childSAOutboundActivated`, because only then is it sure that
    /// the initiator has the new inbound SA (make-before-break with a lost response).
    public var activateOutbound: Bool
    /// The inbound SPI of the Child SA this one replaces (rekey), nil for a first Child SA.
    public var replacesInboundSPI: ESPSPI?

    public init(inboundSPI: ESPSPI, outboundSPI: ESPSPI, encryption: EncryptionAlgorithm,
                integrity: IntegrityAlgorithm?, extendedSequenceNumbers: Bool,
                inboundEncryptionKey: SecureBytes, outboundEncryptionKey: SecureBytes,
                inboundIntegrityKey: SecureBytes?, outboundIntegrityKey: SecureBytes?,
                local: IKEEndpoint, peer: IKEEndpoint, udpEncapsulation: Bool, lifetimeSeconds: Double,
                activateOutbound: Bool = true, replacesInboundSPI: ESPSPI? = nil) {
        self.inboundSPI = inboundSPI
        self.outboundSPI = outboundSPI
        self.encryption = encryption
        self.integrity = integrity
        self.extendedSequenceNumbers = extendedSequenceNumbers
        self.inboundEncryptionKey = inboundEncryptionKey
        self.outboundEncryptionKey = outboundEncryptionKey
        self.inboundIntegrityKey = inboundIntegrityKey
        self.outboundIntegrityKey = outboundIntegrityKey
        self.local = local
        self.peer = peer
        self.udpEncapsulation = udpEncapsulation
        self.lifetimeSeconds = lifetimeSeconds
        self.activateOutbound = activateOutbound
        self.replacesInboundSPI = replacesInboundSPI
    }
}

/// Why an IKE SA attempt or an established SA failed, in words a network engineer can act on,
/// plus the notify type that was sent or received, if any.
public struct IKEFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        case noProposalChosen = "no-proposal-chosen"
        case authenticationFailed = "authentication-failed"
        case certificateInvalid = "certificate-invalid"
        case identityMismatch = "identity-mismatch"
        case trafficSelectorsUnacceptable = "ts-unacceptable"
        case invalidSyntax = "invalid-syntax"
        case timeout = "timeout"
        case peerDeleted = "peer-deleted"
        case deadPeer = "dead-peer"
        case internalError = "internal-error"
        case other = "other"
    }

    public var code: Code
    public var message: String
    /// The RFC 7296 notify type number sent to or received from the peer, when there was one.
    public var notify: UInt16?
    /// True when the peer reported the error (a notify in its response), false when we did.
    public var reportedByPeer: Bool

    public init(_ code: Code, _ message: String, notify: UInt16? = nil, reportedByPeer: Bool = false) {
        self.code = code
        self.message = message
        self.notify = notify
        self.reportedByPeer = reportedByPeer
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// What happened, for logs, the data plane, status and metrics.
public enum IKEEvent: Sendable {
    /// The IKE SA is up: SPIs (hex), the negotiated proposal in strongSwan syntax, the peer's
    /// authenticated identity, and the endpoints.
    case ikeSAEstablished(initiatorSPI: IKESPI, responderSPI: IKESPI, proposal: String,
                          peerIdentity: String, local: IKEEndpoint, peer: IKEEndpoint)
    /// A Child SA is negotiated: install it (inbound before outbound), and send on it unless
    /// `activateOutbound` is false. In a rekey (RFC 7296 §2.8) it comes before the old SA's
    /// `childSADeleted`, so applying events in order never leaves the tunnel without an
    /// outbound SA.
    case childSAReady(ChildSAParameters)
    /// Send new packets on this (installed) Child SA from now on: a rekey responder once the
    /// initiator deletes the old SA, or after a §2.8.1 collision. Comes before the
    /// `childSADeleted` of the SA it replaces.
    case childSAOutboundActivated(inboundSPI: ESPSPI, outboundSPI: ESPSPI)
    /// A Child SA is gone (deleted by either side, or expired): remove it.
    case childSADeleted(inboundSPI: ESPSPI, outboundSPI: ESPSPI)
    /// The peer did not answer a liveness check or any other request (RFC 7296 §2.4); the
    /// configured action says what the daemon should do. `ikeSAFailed(dead-peer)` follows.
    case deadPeer(action: IKEDPDAction)
    /// The peer's IKE_AUTH carried INITIAL_CONTACT (§2.4): it has no other IKE SA with us, so
    /// any older SA of this identity is stale and the daemon should drop it.
    case initialContact(peerIdentity: String)
    /// The IKE SA was rekeyed (RFC 7296 §2.18): these are its new SPIs (hex pair as in
    /// `ikeSAEstablished`) and proposal; the Child SAs moved to it unchanged, the old SA is
    /// being deleted. Our new SPI is in `IKESession.localIKESPIs` from now on.
    case ikeSARekeyed(initiatorSPI: IKESPI, responderSPI: IKESPI, proposal: String,
                      oldInitiatorSPI: IKESPI, oldResponderSPI: IKESPI)
    /// RFC 7296 §1.3.1: the peer asked for a new Child SA in a CREATE_CHILD_SA and this end
    /// refused it (`notify`: the error type it answered, e.g. NO_ADDITIONAL_SAS). The IKE SA
    /// and any Child SA stay as they were.
    case childSARefused(reason: String, notify: UInt16)
    /// The IKE SA could not be established, or died.
    case ikeSAFailed(IKEFailure)
    /// The IKE SA was deleted cleanly.
    case ikeSADeleted
    /// RFC 7296 §2.23: the peer, behind a NAT, sent an authenticated message from a new address
    /// or port (its NAT's mapping changed). IKE follows it; the data plane must send ESP in UDP
    /// of these Child SAs (inbound SPIs) to `peer` from now on.
    case peerEndpointChanged(previous: IKEEndpoint, peer: IKEEndpoint, inboundSPIs: [ESPSPI])
    /// RFC 7296 §2.8.3: the IKE SA's rekey time came and `reauthenticate` is configured, so
    /// no CREATE_CHILD_SA rekey was started. The daemon opens a new IKE SA (IKE_SA_INIT +
    /// IKE_AUTH, no INITIAL_CONTACT) and, once its Child SA is installed, deletes this one.
    /// Emitted once; this SA lives on (its Child SAs keep rekeying) until then.
    case reauthenticationDue
    /// Emitted by the daemon, never by the engine: an older IKE SA with the peer was deleted
    /// while a newer one (RFC 7296 §2.8.3 reauthentication, by either side) carries the tunnel.
    /// SPIs as in `ikeSAEstablished`: the new SA's, then the deleted one's.
    case ikeSAReauthenticated(initiatorSPI: IKESPI, responderSPI: IKESPI,
                              oldInitiatorSPI: IKESPI, oldResponderSPI: IKESPI)
}
