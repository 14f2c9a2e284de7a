import COpenSSL
import ViaductCrypto
import CryptoCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small bridges between OpenSSL's X.509 objects and Swift values, shared by the certificate, key,
/// CRL and validation types. Everything here is mechanism: copying bytes in and out, never policy.
enum X509Support {
    /// Runs `body` with a read-only memory BIO over `bytes` without copying them into OpenSSL
    /// (so secret input is not duplicated).
    static func withReadBIO<R>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> R) throws -> R {
        try bytes.withUnsafeBytes { raw -> R in
            guard let base = raw.baseAddress, raw.count > 0, raw.count <= Int(Int32.max) else {
                throw CryptoError(.malformed, "empty input")
            }
            guard let bio = BIO_new_mem_buf(base, Int32(raw.count)) else {
                throw OpenSSL.error(.library, "BIO_new_mem_buf")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// Collects what `body` writes into a fresh memory BIO.
    static func writeBIO(_ body: (OpaquePointer) -> Bool) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard body(bio) else { return nil }
        var ptr: UnsafeMutablePointer<CChar>? = nil
        let n = viaduct_bio_get_mem_data(bio, &ptr)
        guard n >= 0, let p = ptr else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
    }

    /// DER-encodes with an OpenSSL i2d-style function (called once to size, once to write).
    static func der(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8]? {
        let n = encode(nil)
        guard n > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: Int(n))
        let written = out.withUnsafeMutableBufferPointer { buf -> Int32 in
            var p: UnsafeMutablePointer<UInt8>? = buf.baseAddress
            return encode(&p)
        }
        return written == n ? out : nil
    }

    /// Decodes with an OpenSSL d2i-style function and insists the whole input was consumed:
    /// trailing bytes after a certificate are a sign of a mangled or smuggled blob.
    static func d2i(_ bytes: [UInt8], _ what: String,
                    _ decode: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?) throws -> OpaquePointer {
        try bytes.withUnsafeBufferPointer { buf -> OpaquePointer in
            guard let base = buf.baseAddress, buf.count > 0 else {
                throw CryptoError(.malformed, "\(what): empty input")
            }
            var p: UnsafePointer<UInt8>? = base
            guard let obj = decode(&p, buf.count) else {
                throw OpenSSL.error(.malformed, "\(what): not valid DER")
            }
            let consumed = p.map { $0 - base } ?? 0
            guard consumed == buf.count else {
                freeOnTrailing(obj, what)
                throw CryptoError(.malformed, "\(what): \(buf.count - consumed) trailing bytes after the DER structure")
            }
            return obj
        }
    }

    // `d2i` cannot know the type's free function; callers pass types through this table.
    private static func freeOnTrailing(_ obj: OpaquePointer, _ what: String) {
        switch what {
        case "certificate": X509_free(obj)
        case "CRL": X509_CRL_free(obj)
        case "private key", "public key": EVP_PKEY_free(obj)
        case "name": X509_NAME_free(obj)
        default: break
        }
    }

    /// ASN1_TIME -> seconds since the epoch (UTC).
    static func epoch(_ t: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let t else { return nil }
        var tm = tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { return nil }
        return Int64(timegm(&tm))
    }

    /// Epoch seconds -> "2025-01-31 12:00:00 UTC" for messages and `pki show`.
    static func formatTime(_ t: Int64) -> String {
        var tt = time_t(t)
        var tm = tm()
        guard gmtime_r(&tt, &tm) != nil else { return "\(t)" }
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%Y-%m-%d %H:%M:%S UTC", &tm)
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// X509_NAME -> RFC 4514-style string (most specific RDN first, UTF-8 kept).
    static func nameString(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        let bytes = writeBIO { bio in X509_NAME_print_ex(bio, name, 0, viaduct_xn_flag_rfc2253()) >= 0 }
        return bytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func nameDER(_ name: OpaquePointer?) -> [UInt8] {
        guard let name else { return [] }
        return der { i2d_X509_NAME(name, $0) } ?? []
    }

    /// ASN1_STRING contents as bytes (for INTEGER: the big-endian magnitude).
    static func bytes(_ s: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let s, let p = ASN1_STRING_get0_data(s) else { return [] }
        let n = Int(ASN1_STRING_length(s))
        return n > 0 ? Array(UnsafeBufferPointer(start: p, count: n)) : []
    }

    static func digest(_ md: OpaquePointer?, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        let ok = data.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &out, &len, md, nil) }
        return ok == 1 ? Array(out.prefix(Int(len))) : []
    }

    static func hex(_ bytes: [UInt8], separator: String = "") -> String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined(separator: separator)
    }

    /// Serial bytes -> ASN1_INTEGER (caller frees). Serials are positive integers.
    static func asn1Integer(_ bytes: [UInt8]) -> UnsafeMutablePointer<ASN1_INTEGER>? {
        guard let bn = BN_bin2bn(bytes, Int32(bytes.count), nil) else { return nil }
        defer { BN_free(bn) }
        return BN_to_ASN1_INTEGER(bn, nil)
    }

    /// The dotted-decimal form of an OID.
    static func oidString(_ obj: OpaquePointer?) -> String {
        guard let obj else { return "" }
        var buf = [CChar](repeating: 0, count: 128)
        let n = OBJ_obj2txt(&buf, Int32(buf.count), obj, 1)
        guard n > 0 else { return "" }
        return String(decoding: buf.prefix(Int(min(n, 127))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
