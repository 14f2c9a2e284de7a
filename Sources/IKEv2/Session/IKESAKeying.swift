// RFC 7296 §2.14 (the keys of an IKE SA), §2.18 (rekeying makes a new IKE SA with new SPIs,
// new keys and message IDs starting again at zero).
import CryptoCore
import NetTypes

/// What one IKE SA is on the wire: its SPIs, who is its original initiator (the I flag), the
/// nonces it was made with and its keys. An IKE SA rekey creates a new one; the session keeps
/// its current SA in its own fields and the others (the replaced one, §2.8.2 redundant ones)
/// in `IKESideSA` values until they are deleted.
struct IKESAKeying {
    var initiatorSPI: IKESPI
    var responderSPI: IKESPI
    /// §2.18: the initiator of the rekey exchange is the original initiator of the new SA.
    var originalInitiator: Bool
    var nonceI: [UInt8]
    var nonceR: [UInt8]
    var algorithms: IKESelectedAlgorithms
    var prf: any PseudoRandomFunction
    var keys: IKESAKeys
    var protection: IKEMessageProtection

    /// Our SPI in this SA (the one the peer puts in the header's other half).
    var localSPI: IKESPI { originalInitiator ? initiatorSPI : responderSPI }

    /// The nonce of the two that is the lowest (§2.8.2 compares the four of a collision).
    var lowestNonce: [UInt8] { nonceI.lexicographicallyPrecedes(nonceR) ? nonceI : nonceR }

    func matches(_ header: IKEHeader) -> Bool {
        header.initiatorSPI == initiatorSPI && header.responderSPI == responderSPI
    }
}
