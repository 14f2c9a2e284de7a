// linux/xfrm.h: struct xfrm_algo_aead { char alg_name[64]; unsigned alg_key_len /* bits */; unsigned
// alg_icv_len /* bits */; char alg_key[]; } (XFRMA_ALG_AEAD), struct xfrm_algo { alg_name[64]; alg_key_len;
// alg_key[] } (XFRMA_ALG_CRYPT) and struct xfrm_algo_auth { alg_name[64]; alg_key_len; alg_trunc_len;
// alg_key[] } (XFRMA_ALG_AUTH_TRUNC). Names are the kernel crypto API's ("rfc4106(gcm(aes))", "cbc(aes)",
// "hmac(sha256)"); for RFC 4106 the key includes the 4-byte salt.

/// The transforms of an SA: one AEAD, or a cipher plus an integrity algorithm.
public enum XfrmAlgorithms: Hashable, Sendable {
    case aead(name: String, key: [UInt8], icvBits: UInt32)
    case cipherAndAuth(cipher: String, cipherKey: [UInt8], auth: String, authKey: [UInt8], truncationBits: UInt32)

    public static let nameFieldSize = 64

    /// How it is written in `ip xfrm state` (keys elided).
    public var summary: String {
        switch self {
        case .aead(let name, let key, let icv): return "aead \(name) (\(key.count * 8)-bit key) \(icv)"
        case .cipherAndAuth(let c, _, let a, _, let t): return "enc \(c) auth-trunc \(a) \(t)"
        }
    }

    func encode(into w: inout NetlinkWriter) throws(KernelModelError) {
        switch self {
        case .aead(let name, let key, let icv):
            var a = NetlinkWriter()
            try XfrmAlgorithms.writeName(name, into: &a)
            a.write(UInt32(key.count * 8))
            a.write(icv)
            a.write(bytes: key)
            w.attribute(XfrmAttribute.algAEAD, a.bytes)
        case .cipherAndAuth(let cipher, let cipherKey, let auth, let authKey, let trunc):
            var a = NetlinkWriter()
            try XfrmAlgorithms.writeName(auth, into: &a)
            a.write(UInt32(authKey.count * 8))
            a.write(trunc)
            a.write(bytes: authKey)
            w.attribute(XfrmAttribute.algAuthTrunc, a.bytes)
            var c = NetlinkWriter()
            try XfrmAlgorithms.writeName(cipher, into: &c)
            c.write(UInt32(cipherKey.count * 8))
            c.write(bytes: cipherKey)
            w.attribute(XfrmAttribute.algCrypt, c.bytes)
        }
    }

    static func writeName(_ name: String, into w: inout NetlinkWriter) throws(KernelModelError) {
        let raw = Array(name.utf8)
        guard raw.count < nameFieldSize, !raw.contains(0) else {
            throw KernelModelError(.fieldTooLong, "algorithm name \"\(name)\" must be shorter than \(nameFieldSize) bytes")
        }
        w.write(bytes: raw)
        w.writeZeros(nameFieldSize - raw.count)
    }

    /// Decodes the algorithm attributes of an SA; nil when it has none (a larval SA from ALLOCSPI).
    /// The key length in bits must fit the attribute (a longer claim is `shortValue`).
    static func decode(_ attrs: NetlinkAttributes) throws(NetlinkDecodeError) -> XfrmAlgorithms? {
        if var r = attrs.reader(XfrmAttribute.algAEAD, "XFRMA_ALG_AEAD") {
            let name = try r.readFixedString(nameFieldSize)
            let keyBits = Int(try r.readUInt32())
            let icv = try r.readUInt32()
            let key = try r.readBytes((keyBits + 7) / 8, "XFRMA_ALG_AEAD key")
            return .aead(name: name, key: key, icvBits: icv)
        }
        guard var c = attrs.reader(XfrmAttribute.algCrypt, "XFRMA_ALG_CRYPT") else { return nil }
        let cipher = try c.readFixedString(nameFieldSize)
        let cipherKey = try c.readBytes((Int(try c.readUInt32()) + 7) / 8, "XFRMA_ALG_CRYPT key")
        if var a = attrs.reader(XfrmAttribute.algAuthTrunc, "XFRMA_ALG_AUTH_TRUNC") {
            let auth = try a.readFixedString(nameFieldSize)
            let keyBits = Int(try a.readUInt32())
            let trunc = try a.readUInt32()
            let authKey = try a.readBytes((keyBits + 7) / 8, "XFRMA_ALG_AUTH_TRUNC key")
            return .cipherAndAuth(cipher: cipher, cipherKey: cipherKey, auth: auth, authKey: authKey, truncationBits: trunc)
        }
        if var a = attrs.reader(XfrmAttribute.algAuth, "XFRMA_ALG_AUTH") {
            let auth = try a.readFixedString(nameFieldSize)
            let keyBits = Int(try a.readUInt32())
            let authKey = try a.readBytes((keyBits + 7) / 8, "XFRMA_ALG_AUTH key")
            return .cipherAndAuth(cipher: cipher, cipherKey: cipherKey, auth: auth, authKey: authKey, truncationBits: 96)
        }
        return .cipherAndAuth(cipher: cipher, cipherKey: cipherKey, auth: "digest_null", authKey: [], truncationBits: 0)
    }
}
