// RFC 7296 §2.8 (rekeying), §2.8.1 (simultaneous rekeying), §1.4.1 (deleting): the life of one
// Child SA inside an IKE SA.
import CryptoCore
import NetTypes

/// One Child SA as the engine tracks it: the parameters handed to the data plane plus where it
/// stands in its life. Keyed by its inbound SPI (ours, unique within the session).
struct IKEChildSA {
    enum Phase: Equatable {
        /// Installed and in use; rekeyed when `rekeyAt` passes.
        case installed
        /// Our CREATE_CHILD_SA rekey of it is queued or outstanding.
        case rekeying
        /// Replaced by `successor`; it goes when we or the peer delete it (§2.8).
        case replaced
        /// A redundant SA of a §2.8.1 collision that the peer created and will delete.
        case redundant
        /// Our INFORMATIONAL Delete of it is queued or outstanding.
        case deleting
    }

    var parameters: ChildSAParameters
    var phase: Phase = .installed
    /// When to start the rekey (soft lifetime, with jitter) and when it must be gone (hard).
    var rekeyAt: IKEInstant
    var expireAt: IKEInstant
    /// The SA that takes over its outbound traffic when it is deleted.
    var successor: ESPSPI?

    var inboundSPI: ESPSPI { parameters.inboundSPI }
    var outboundSPI: ESPSPI { parameters.outboundSPI }
}

/// A peer's rekey of one of our Child SAs that we answered while our own rekey of the same SA
/// was in flight: the other half of a §2.8.1 collision.
struct IKEPeerRekey {
    var newInboundSPI: ESPSPI
    var nonceI: [UInt8]
    var nonceR: [UInt8]
}

/// Context of our outstanding CREATE_CHILD_SA rekey request.
struct IKEChildRekeyContext {
    var oldInboundSPI: ESPSPI
    var newInboundSPI: ESPSPI
    var nonce: [UInt8]
    /// The PFS key pair (§1.3.3), held until the answer; nil without PFS.
    var keyExchange: (any KeyExchange)?
    var invalidKERetries = 0
    /// Set when the peer rekeyed the same SA meanwhile (§2.8.1).
    var collision: IKEPeerRekey?
    /// Set when the peer deleted the old SA meanwhile (§2.25.1).
    var oldDeleted = false
}

