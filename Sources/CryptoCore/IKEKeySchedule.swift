/// The IKEv2 key schedule (RFC 7296 §2.14, §2.17, §2.18). Pure: the PRF is injected, inputs are
/// bytes, and the only allocations are the returned `SecureBytes` and wiped scratch buffers.
///
/// Only HMAC-based PRFs are supported by Viaduct, so the AES-XCBC/CMAC nonce truncation of §2.14
/// never applies.
public enum IKEKeySchedule {
    // RFC 7296 §2.14: SKEYSEED = prf(Ni | Nr, g^ir)
    public static func skeyseed(prf: some PseudoRandomFunction, nonceI: [UInt8], nonceR: [UInt8],
                                sharedSecret: SecureBytes) throws(CryptoError) -> SecureBytes {
        var key = nonceI + nonceR
        defer { SecureBytes.wipe(&key) }
        return try sharedSecret.withUnsafeBytes { (gir) throws(CryptoError) -> SecureBytes in
            try key.withBytes { (k) throws(CryptoError) -> SecureBytes in try prf.computeSecret(key: k, data: gir) }
        }
    }

    // RFC 7296 §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
    /// `prf` is the PRF of the IKE SA being rekeyed (SK_d (old) belongs to it); the new SA's own
    /// keys are then derived with `deriveIKESAKeys` using the new SA's PRF.
    public static func rekeyedSKEYSEED(prf: some PseudoRandomFunction, oldSKd: SecureBytes,
                                       sharedSecret: SecureBytes, nonceI: [UInt8],
                                       nonceR: [UInt8]) throws(CryptoError) -> SecureBytes {
        var data = sharedSecret.withUnsafeBytes { Array($0) } + nonceI + nonceR
        defer { SecureBytes.wipe(&data) }
        return try oldSKd.withUnsafeBytes { (k) throws(CryptoError) -> SecureBytes in
            try data.withBytes { (d) throws(CryptoError) -> SecureBytes in try prf.computeSecret(key: k, data: d) }
        }
    }

    // RFC 7296 §2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
    //                   = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
    /// SPIs are the 8-octet IKE SPIs as on the wire (big-endian). SK_d, SK_pi and SK_pr are the
    /// PRF's preferred key length (its output length, §2.13); SK_e* carry the salt for AEADs
    /// (RFC 5282 §7.1); SK_a* are empty for AEADs.
    public static func deriveIKESAKeys(prf: some PseudoRandomFunction, skeyseed: SecureBytes,
                                       nonceI: [UInt8], nonceR: [UInt8], spiI: UInt64, spiR: UInt64,
                                       encryption: EncryptionAlgorithm,
                                       integrity: IntegrityAlgorithm?) throws(CryptoError) -> IKESAKeys {
        let integLength = try integrityKeyLength(encryption: encryption, integrity: integrity)
        let prfLength = prf.outputLength
        let encLength = encryption.keyMaterialLength
        let lengths = [prfLength, integLength, integLength, encLength, encLength, prfLength, prfLength]
        let seed = nonceI + nonceR + bigEndian(spiI) + bigEndian(spiR)
        let stream = try seed.withBytes { (s) throws(CryptoError) -> SecureBytes in
            try PRFPlus.expand(prf: prf, key: skeyseed, seed: s, length: lengths.reduce(0, +))
        }
        let keys = try split(stream, lengths)
        return IKESAKeys(skD: keys[0], skAi: keys[1], skAr: keys[2], skEi: keys[3], skEr: keys[4],
                         skPi: keys[5], skPr: keys[6])
    }

    // RFC 7296 §2.17: KEYMAT = prf+(SK_d, Ni | Nr), or with PFS prf+(SK_d, g^ir (new) | Ni | Nr).
    /// Split in the order §2.17 mandates: initiator->responder encryption key, then its integrity
    /// key, then the same for responder->initiator. Nonces are those of the exchange creating the
    /// Child SA (IKE_AUTH: the IKE_SA_INIT nonces; CREATE_CHILD_SA: its own).
    public static func deriveChildSAKeys(prf: some PseudoRandomFunction, skD: SecureBytes,
                                         sharedSecret: SecureBytes?, nonceI: [UInt8], nonceR: [UInt8],
                                         encryption: EncryptionAlgorithm,
                                         integrity: IntegrityAlgorithm?) throws(CryptoError) -> ChildSAKeys {
        let integLength = try integrityKeyLength(encryption: encryption, integrity: integrity)
        let encLength = encryption.keyMaterialLength
        var seed = (sharedSecret?.withUnsafeBytes { Array($0) } ?? []) + nonceI + nonceR
        defer { SecureBytes.wipe(&seed) }
        let lengths = [encLength, integLength, encLength, integLength]
        let stream = try seed.withBytes { (s) throws(CryptoError) -> SecureBytes in
            try PRFPlus.expand(prf: prf, key: skD, seed: s, length: lengths.reduce(0, +))
        }
        let keys = try split(stream, lengths)
        return ChildSAKeys(
            initiatorToResponder: .init(encryption: keys[0], integrity: integLength > 0 ? keys[1] : nil),
            responderToInitiator: .init(encryption: keys[2], integrity: integLength > 0 ? keys[3] : nil))
    }

    /// AEADs take no integrity transform and other ciphers need one (RFC 7296 §3.3.3); refusing the
    /// mismatch here keeps a malformed proposal from yielding keys with no integrity protection.
    private static func integrityKeyLength(encryption: EncryptionAlgorithm,
                                           integrity: IntegrityAlgorithm?) throws(CryptoError) -> Int {
        switch (encryption.isAEAD, integrity) {
        case (true, nil): return 0
        case (false, let integ?): return integ.keyLength
        case (true, _?): throw CryptoError(.unsupportedAlgorithm, "an AEAD cipher takes no integrity algorithm")
        case (false, nil): throw CryptoError(.unsupportedAlgorithm, "a non-AEAD cipher needs an integrity algorithm")
        }
    }

    private static func split(_ stream: SecureBytes, _ lengths: [Int]) throws(CryptoError) -> [SecureBytes] {
        var offset = 0
        var keys: [SecureBytes] = []
        for length in lengths {
            keys.append(try stream.slice(offset..<(offset + length)))
            offset += length
        }
        return keys
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
