// RFC 7296 §1.2: "HDR, SAi1, KEi, Ni -->", the request a flood repeats with fresh SPIs and
// nonces (RFC 8019 §2: the attacker's cheapest way to make a responder work).
import ViaductCrypto
import CryptoCore
import Daemon
import IKEv2
import NetTypes

/// One well-formed IKE_SA_INIT request, encoded once, whose initiator SPI (octets 0..<8) and
/// nonce (the last payload, so the last `nonceLength` octets) are overwritten per packet. The
/// KE payload carries a real public value of the proposal's group, so an admitted copy costs the
/// responder a full Diffie-Hellman, as a real attacker's would.
public struct FloodRequestTemplate: Sendable {
    public static let nonceLength = 32
    public private(set) var bytes: [UInt8]

    public init(proposal: IKEAlgorithmSet) throws(DaemonError) {
        guard let group = proposal.groups.first else {
            throw DaemonError(.configuration, "the flood's IKE proposal names no key exchange group")
        }
        do {
            var random = OpenSSLRandomSource()
            let ke = try OpenSSLCryptoProvider().makeKeyExchange(group, random: &random)
            let header = IKEHeader(initiatorSPI: IKESPI(1), exchangeType: .ikeSAInit, flags: [.initiator], messageID: 0)
            bytes = try IKEMessage(header: header, payloads: [
                .securityAssociation(IKESecurityAssociation(proposals: [proposal.initialProposal(number: 1)])),
                .keyExchange(IKEKeyExchange(group: group.transformID, data: ke.publicValue)),
                .nonce(IKENonce(data: [UInt8](repeating: 0, count: Self.nonceLength))),
            ]).encoded()
        } catch {
            throw DaemonError(.configuration, "cannot build the flood's IKE_SA_INIT: \(error)")
        }
    }

    /// The next request: a fresh SPI (never zero) and nonce from `random`.
    public mutating func next(random: inout SeededRandomSource) -> [UInt8] {
        let spi = random.next() | 1
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: spi >> UInt64(56 - 8 * i)) }
        let start = bytes.count - Self.nonceLength
        var i = start
        while i < bytes.count {
            var word = random.next()
            for j in i..<min(i + 8, bytes.count) {
                bytes[j] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
            i += 8
        }
        return bytes
    }
}
