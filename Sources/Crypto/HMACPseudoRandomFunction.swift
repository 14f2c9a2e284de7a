import COpenSSL
import CryptoCore

// RFC 2104 HMAC as an IKEv2 PRF: PRF_HMAC_SHA2_256/384/512 (RFC 4868 §2.2), and the weak
// PRF_HMAC_MD5 / PRF_HMAC_SHA1 (RFC 8247 §2.2 "MUST NOT" / "MUST-") for completeness.

/// HMAC PRF. The key changes on every prf+ step, so the context is re-keyed per call; the
/// context itself is created once and reused.
///
/// Not `Sendable`: one instance per SA (or per task), never shared across threads concurrently.
final class HMACPseudoRandomFunction: PseudoRandomFunction {
    let algorithm: PRFAlgorithm
    private let context: HMACContext

    static func digestName(_ algorithm: PRFAlgorithm) -> String {
        switch algorithm {
        case .hmacMD5: "MD5"
        case .hmacSHA1: "SHA1"
        case .hmacSHA256: "SHA256"
        case .hmacSHA384: "SHA384"
        case .hmacSHA512: "SHA512"
        }
    }

    init(algorithm: PRFAlgorithm) throws(CryptoError) {
        self.algorithm = algorithm
        self.context = try HMACContext(digest: Self.digestName(algorithm), outputLength: algorithm.outputLength)
    }

    var outputLength: Int { algorithm.outputLength }

    func compute(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer,
                 into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try context.start(key: key)
        try context.update(data)
        try context.finish(into: output)
    }
}
