// RFC 7296 §2.18 (the old IKE SA lives until its Delete), §2.8.2 (simultaneous IKE SA rekeys
// leave a redundant SA), §2.3 (each IKE SA has its own message IDs and window).
import CryptoCore
import NetTypes

/// An IKE SA that is not (or not yet) the session's current one, with its own message IDs,
/// response cache and outstanding request: §2.3's window is per IKE SA.
struct IKESideSA {
    enum Purpose: Equatable {
        /// The SA an IKE rekey replaced; the rekey's initiator deletes it (§2.18).
        case replaced
        /// §2.8.2: the new SA made with the lowest of the four nonces; its creator deletes it.
        case redundant
        /// §2.8.2: the peer's new SA, answered while our own IKE rekey is still in flight.
        case candidate
    }

    var keying: IKESAKeying
    var purpose: Purpose
    /// Its own message IDs and response cache; `outstanding` is our Delete of it, or our IKE
    /// rekey request that was in flight when it was replaced.
    var window = IKEExchangeWindow()
    /// Our IKE rekey whose answer may still arrive on this SA after the peer replaced it.
    var rekey: IKESARekeyContext?
    /// Deleted (by either side): only retransmissions are answered, from the cache.
    var closed = false
    /// Forgotten then even if the peer never deletes it (bounded memory, bounded routing).
    var forgetAt: IKEInstant
}

/// Our outstanding CREATE_CHILD_SA that rekeys the IKE SA (§1.3.2).
struct IKESARekeyContext {
    /// Our SPI in the new SA (the proposal SPI of our SA payload).
    var newSPI: IKESPI
    var nonce: [UInt8]
    var keyExchange: any KeyExchange
    var invalidKERetries = 0
}
