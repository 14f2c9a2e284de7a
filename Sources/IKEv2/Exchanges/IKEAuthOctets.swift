// RFC 7296 §2.15: the octets each side signs, and the pre-shared key's MIC over them.
//   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
//   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)   (ID Type | RESERVED | Identification Data)
//   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
import CryptoCore

enum IKEAuthOctets {
    /// `message` is the IKE_SA_INIT message exactly as sent (with COOKIE / retried KE, if any),
    /// `nonce` the OTHER side's nonce, `key` SK_pi for the initiator's ID, SK_pr for the responder's.
    static func octets(message: [UInt8], nonce: [UInt8], identification: IKEIdentification,
                       prf: any PseudoRandomFunction, key: SecureBytes) throws(CryptoError) -> [UInt8] {
        var rest: [UInt8] = [identification.type.rawValue, 0, 0, 0]
        rest += identification.data
        let mac = try Self.mac(rest, prf: prf, key: key)
        var octets = message
        octets.reserveCapacity(message.count + nonce.count + mac.count)
        octets += nonce
        octets += mac
        return octets
    }

    /// prf(key, data): MACedIDFor* here, RFC 9242's IntAuth chain in IKEIntermediateExchange.
    static func mac(_ data: [UInt8], prf: any PseudoRandomFunction, key: SecureBytes) throws(CryptoError) -> [UInt8] {
        try key.withUnsafeBytes { (k) throws(CryptoError) -> [UInt8] in
            var out = [UInt8](repeating: 0, count: prf.outputLength)
            try data.withBytes { (d) throws(CryptoError) in
                try out.withMutableBytes { (o) throws(CryptoError) in try prf.compute(key: k, data: d, into: o) }
            }
            return out
        }
    }

    /// §2.15: AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> ) for the
    /// Shared Key Message Integrity Code (method 2). The pad is the 17 ASCII octets, no NUL.
    static func sharedKeyMIC(_ octets: [UInt8], preSharedKey: SecureBytes, prf: any PseudoRandomFunction) throws(CryptoError) -> SecureBytes {
        let pad = Array("Key Pad for IKEv2".utf8)
        let padded = try SecureBytes(count: prf.outputLength) { (o) throws(CryptoError) in
            try preSharedKey.withUnsafeBytes { (k) throws(CryptoError) in
                try pad.withBytes { (d) throws(CryptoError) in try prf.compute(key: k, data: d, into: o) }
            }
        }
        return try SecureBytes(count: prf.outputLength) { (o) throws(CryptoError) in
            try padded.withUnsafeBytes { (k) throws(CryptoError) in
                try octets.withBytes { (d) throws(CryptoError) in try prf.compute(key: k, data: d, into: o) }
            }
        }
    }
}
