// RFC 7296 §3.14 (SK payload: IV | encrypted(payloads | padding | pad length) | ICV) and
// RFC 5282 §3–§5 (AEAD in IKEv2: AAD = IKE header .. SK generic header, nonce = salt | IV).
import CryptoCore

/// Why a protected message could not be opened. The engine drops such messages silently
/// (RFC 7296 §2.21: an integrity failure is never answered).
struct IKEProtectionError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The SK payload protection of one IKE SA: one keyed transform per direction, created once
/// when the keys are derived and reused for every message.
final class IKEMessageProtection {
    private enum Direction {
        case aead(any AEADCipher)
        case cbc(any CBCCipher, any IntegrityMAC)
    }

    private let outbound: Direction
    private let inbound: Direction
    private let encryption: EncryptionAlgorithm
    /// RFC 5282 §3: the explicit IV of an AEAD must never repeat under one key; a counter is the
    /// simplest way to guarantee it (each direction has its own key).
    private var ivCounter: UInt64 = 0

    init(provider: any CryptoProvider, algorithms: IKESelectedAlgorithms, keys: IKESAKeys, isInitiator: Bool) throws(CryptoError) {
        encryption = algorithms.encryption
        // §2.14: SK_ei/SK_ai protect initiator -> responder.
        let (outE, outA, inE, inA) = isInitiator ? (keys.skEi, keys.skAi, keys.skEr, keys.skAr) : (keys.skEr, keys.skAr, keys.skEi, keys.skAi)
        if algorithms.encryption.isAEAD {
            outbound = .aead(try provider.makeAEAD(algorithms.encryption, key: outE))
            inbound = .aead(try provider.makeAEAD(algorithms.encryption, key: inE))
        } else {
            guard let integ = algorithms.integrity else {
                throw CryptoError(.unsupportedAlgorithm, "\(algorithms.encryption) needs an integrity algorithm")
            }
            outbound = .cbc(try provider.makeCBC(algorithms.encryption, key: outE), try provider.makeIntegrity(integ, key: outA))
            inbound = .cbc(try provider.makeCBC(algorithms.encryption, key: inE), try provider.makeIntegrity(integ, key: inA))
        }
    }

    /// Encodes `header` + SK{payloads} and protects it. One buffer is built at final size and
    /// encrypted in place.
    func seal(header: IKEHeader, payloads: [IKEPayload], random: inout some RandomSource) throws -> [UInt8] {
        let (first, inner) = try IKEMessage.encodeInnerPayloads(payloads)
        return try seal(header: header, plaintext: inner[...], random: &random) {
            .encrypted(IKEEncrypted(firstPayload: first, data: $0))
        }
    }

    /// IV, ICV and block sizes of our outbound transform: what an SK or SKF payload adds to its
    /// plaintext (RFC 7383 §2.5.1 sizes fragments with them).
    var outboundOverhead: (iv: Int, icv: Int, block: Int) {
        switch outbound {
        case .aead(let c): (c.ivLength, c.tagLength, 1)
        case .cbc(let c, let mac): (c.ivLength, mac.icvLength, c.blockSize)
        }
    }

    /// Protects `plaintext` (an encoded inner chain, or one piece of it for an SKF fragment,
    /// RFC 7383 §2.5) in the last payload `wrap` builds around the SK data: the AAD / ICV cover
    /// everything before it, so the SKF's Fragment Number and Total Fragments are authenticated.
    func seal(header: IKEHeader, plaintext inner: ArraySlice<UInt8>, random: inout some RandomSource,
              wrap: ([UInt8]) -> IKEPayload) throws -> [UInt8] {
        let ivLength: Int, icvLength: Int, block: Int
        var iv: [UInt8]
        switch outbound {
        case .aead(let c):
            ivLength = c.ivLength
            icvLength = c.tagLength
            block = 1
            ivCounter &+= 1
            iv = (0..<ivLength).map { i in i < ivLength - 8 ? 0 : UInt8(truncatingIfNeeded: ivCounter >> UInt64(8 * (ivLength - 1 - i))) }
        case .cbc(let c, let mac):
            ivLength = c.ivLength
            icvLength = mac.icvLength
            block = c.blockSize
            iv = try random.bytes(ivLength)  // §3.14: CBC IVs must be unpredictable
        }
        // §3.14: pad so that payloads | padding | pad length fills whole blocks.
        let padLength = (block - (inner.count + 1) % block) % block
        var skData = iv
        skData.reserveCapacity(ivLength + inner.count + padLength + 1 + icvLength)
        skData += inner
        skData += repeatElement(0, count: padLength)
        skData.append(UInt8(padLength))
        let plaintextCount = inner.count + padLength + 1
        skData += repeatElement(0, count: icvLength)
        var bytes = try IKEMessage(header: header, payloads: [wrap(skData)]).encoded()
        let skStart = bytes.count - skData.count
        let ctStart = skStart + ivLength
        let direction = outbound
        let result: Result<Void, CryptoError> = bytes.withUnsafeMutableBytes { all in
            let whole = UnsafeRawBufferPointer(all)
            let ivBuf = UnsafeRawBufferPointer(rebasing: whole[skStart..<ctStart])
            return Result { () throws(CryptoError) in
                switch direction {
                case .aead(let c):
                    _ = try c.seal(iv: ivBuf, aad: UnsafeRawBufferPointer(rebasing: whole[0..<skStart]),
                                   buffer: UnsafeMutableRawBufferPointer(rebasing: all[ctStart..<all.count]),
                                   plaintextCount: plaintextCount)
                case .cbc(let c, let mac):
                    try c.encrypt(iv: ivBuf, buffer: UnsafeMutableRawBufferPointer(rebasing: all[ctStart..<(ctStart + plaintextCount)]))
                    let end = all.count - icvLength
                    try mac.computeICV(over: UnsafeRawBufferPointer(rebasing: whole[0..<end]),
                                       into: UnsafeMutableRawBufferPointer(rebasing: all[end..<all.count]))
                }
            }
        }
        try result.get()
        return bytes
    }

    /// Checks the ICV of a received message BEFORE anything inside is parsed, then decrypts and
    /// decodes the inner payload chain. `raw` is the datagram exactly as received.
    func open(raw: [UInt8], sk: IKEEncrypted) throws -> [IKEPayload] {
        try IKEMessage.decodeInnerPayloads(openPlaintext(raw: raw, data: sk.data), firstPayload: sk.firstPayload)
    }

    /// Checks the ICV over `raw` (whose last payload's body ends with `protectedData`: an SK
    /// payload, or an SKF fragment, RFC 7383 §2.6) and returns the plaintext without padding.
    func openPlaintext(raw: [UInt8], data protectedData: [UInt8]) throws -> [UInt8] {
        guard protectedData.count <= raw.count else { throw IKEProtectionError(message: "SK data longer than the message") }
        let skStart = raw.count - protectedData.count
        var data = protectedData
        let plaintextCount: Int
        switch inbound {
        case .aead(let c):
            guard data.count >= c.ivLength + c.tagLength + 1 else { throw IKEProtectionError(message: "SK payload too short") }
            let ivLength = c.ivLength
            let r: Result<Int, CryptoError> = raw.withUnsafeBytes { whole in
                data.withUnsafeMutableBytes { d in
                    Result { () throws(CryptoError) -> Int in
                        try c.open(iv: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(d)[0..<ivLength]),
                                   aad: UnsafeRawBufferPointer(rebasing: whole[0..<skStart]),
                                   buffer: UnsafeMutableRawBufferPointer(rebasing: d[ivLength..<d.count]),
                                   ciphertextCount: d.count - ivLength)
                    }
                }
            }
            plaintextCount = try r.get()
            data.removeFirst(ivLength)
        case .cbc(let c, let mac):
            let ivLength = c.ivLength, icv = mac.icvLength
            let ctCount = data.count - ivLength - icv
            guard ctCount > 0, ctCount % c.blockSize == 0 else { throw IKEProtectionError(message: "SK ciphertext not whole blocks") }
            try raw.withBytes { (whole) throws(CryptoError) in
                try mac.verifyICV(over: UnsafeRawBufferPointer(rebasing: whole[0..<(whole.count - icv)]),
                                  icv: UnsafeRawBufferPointer(rebasing: whole[(whole.count - icv)..<whole.count]))
            }
            try data.withMutableBytes { (d) throws(CryptoError) in
                try c.decrypt(iv: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(d)[0..<ivLength]),
                              buffer: UnsafeMutableRawBufferPointer(rebasing: d[ivLength..<(ivLength + ctCount)]))
            }
            plaintextCount = ctCount
            data.removeFirst(ivLength)
        }
        let padLength = Int(data[plaintextCount - 1])
        guard padLength + 1 <= plaintextCount else { throw IKEProtectionError(message: "SK pad length \(padLength) too large") }
        data.removeSubrange((plaintextCount - 1 - padLength)...)
        return data
    }
}
