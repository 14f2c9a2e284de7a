import COpenSSL
import ViaductCrypto
import CryptoCore

/// Producing and checking the signatures in IKEv2 AUTH payloads (RFC 7296 §2.15: the signed
/// octets are built by the IKE engine; this type only signs/verifies them).
///
/// `sign` returns exactly the bytes that follow the AlgorithmIdentifier (method 14) or fill the
/// Authentication Data (methods 1, 9, 10, 11). For the raw RFC 4754 schemes that is r||s, each
/// left-padded to the curve's size; for method-14 ECDSA it is the DER ECDSA-Sig-Value.
public enum Signature {
    public static func sign(_ data: [UInt8], with key: PrivateKey, scheme: SignatureScheme) throws -> [UInt8] {
        guard scheme.isCompatible(with: key.algorithm) else {
            throw CryptoError(.unsupportedAlgorithm, "\(scheme) cannot be used with a \(key.algorithm) key")
        }
        let sig = try key.withEVP { pkey throws -> [UInt8] in
            guard let mctx = EVP_MD_CTX_new() else { throw OpenSSL.error(.library, "EVP_MD_CTX_new") }
            defer { EVP_MD_CTX_free(mctx) }
            var pctx: OpaquePointer? = nil
            guard EVP_DigestSignInit(mctx, &pctx, scheme.hash.md, nil, pkey) == 1 else {
                throw OpenSSL.error(.library, "EVP_DigestSignInit(\(scheme))")
            }
            try configurePadding(pctx, scheme)
            var len = 0
            guard data.withUnsafeBufferPointer({ EVP_DigestSign(mctx, nil, &len, $0.baseAddress, $0.count) }) == 1 else {
                throw OpenSSL.error(.library, "EVP_DigestSign(\(scheme))")
            }
            var sig = [UInt8](repeating: 0, count: len)
            guard data.withUnsafeBufferPointer({ EVP_DigestSign(mctx, &sig, &len, $0.baseAddress, $0.count) }) == 1 else {
                throw OpenSSL.error(.library, "EVP_DigestSign(\(scheme))")
            }
            sig.removeSubrange(len...)
            return sig
        }
        if let curve = scheme.rawCurve {
            return try ECDSASignatureEncoding.raw(fromDER: sig, size: curve.coordinateSize)
        }
        return sig
    }

    /// True when `signature` is valid for `data`. A signature that is malformed (wrong length,
    /// bad DER) is simply invalid: false, never a throw, so a hostile peer cannot provoke a
    /// different code path. Throws only when the scheme cannot apply to the key at all.
    public static func verify(_ signature: [UInt8], for data: [UInt8], publicKey: PublicKey,
                              scheme: SignatureScheme) throws -> Bool {
        guard scheme.isCompatible(with: publicKey.algorithm) else {
            throw CryptoError(.unsupportedAlgorithm, "\(scheme) cannot be used with a \(publicKey.algorithm) key")
        }
        var sig = signature
        if let curve = scheme.rawCurve {
            guard let der = try? ECDSASignatureEncoding.der(fromRaw: signature, size: curve.coordinateSize) else { return false }
            sig = der
        }
        return try publicKey.withEVP { pkey throws -> Bool in
            guard let mctx = EVP_MD_CTX_new() else { throw OpenSSL.error(.library, "EVP_MD_CTX_new") }
            defer { EVP_MD_CTX_free(mctx) }
            var pctx: OpaquePointer? = nil
            guard EVP_DigestVerifyInit(mctx, &pctx, scheme.hash.md, nil, pkey) == 1 else {
                throw OpenSSL.error(.library, "EVP_DigestVerifyInit(\(scheme))")
            }
            try configurePadding(pctx, scheme)
            let rc = sig.withUnsafeBufferPointer { s in
                data.withUnsafeBufferPointer { d in
                    EVP_DigestVerify(mctx, s.baseAddress, s.count, d.baseAddress, d.count)
                }
            }
            OpenSSL.clearErrors()
            return rc == 1
        }
    }

    /// Verifies with the key of a certificate (which the caller has validated).
    public static func verify(_ signature: [UInt8], for data: [UInt8], certificate: Certificate,
                              scheme: SignatureScheme) throws -> Bool {
        try verify(signature, for: data, publicKey: certificate.publicKey, scheme: scheme)
    }

    private static func configurePadding(_ pctx: OpaquePointer?, _ scheme: SignatureScheme) throws {
        switch scheme {
        case .rsaPKCS1SHA1, .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512:
            guard EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 else { throw OpenSSL.error(.library, "PKCS#1 padding") }
        case .rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512:
            // RFC 4055 §3.1 / RFC 7427 A.4.3: MGF1 with the message hash, salt = hash length.
            guard EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1,
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, Int32(scheme.hash.length)) == 1,
                  EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, scheme.hash.md) == 1 else {
                throw OpenSSL.error(.library, "PSS parameters")
            }
        default:
            break
        }
    }
}

/// RFC 4754 §7: ECDSA signatures in IKEv2 methods 9/10/11 are r||s, each exactly the curve's
/// size, while OpenSSL (and RFC 7427 method 14) use DER ECDSA-Sig-Value (RFC 3279 §2.2.3).
enum ECDSASignatureEncoding {
    static func raw(fromDER der: [UInt8], size: Int) throws -> [UInt8] {
        var outer = DERReader(der)
        var seq = DERReader(try outer.read(tag: DER.sequence))
        let r = try DER.magnitude(try seq.read(tag: DER.integer), size: size)
        let s = try DER.magnitude(try seq.read(tag: DER.integer), size: size)
        guard outer.isEmpty, seq.isEmpty else { throw CryptoError(.malformed, "ECDSA-Sig-Value: trailing bytes") }
        return r + s
    }

    static func der(fromRaw raw: [UInt8], size: Int) throws -> [UInt8] {
        guard raw.count == 2 * size else {
            throw CryptoError(.malformed, "RFC 4754 signature must be \(2 * size) bytes, got \(raw.count)")
        }
        let body = DER.unsignedInteger(raw[0..<size]) + DER.unsignedInteger(raw[size...])
        return DER.encode(tag: DER.sequence, body)
    }
}
