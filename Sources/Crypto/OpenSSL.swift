import COpenSSL
import CryptoCore

/// The one door to OpenSSL's error queue: drains it into a `CryptoError` so failures carry
/// OpenSSL's own reason and the queue never leaks into the next operation.
/// `package`: the PKI target drains the same queue.
package enum OpenSSL {
    package static func error(_ code: CryptoError.Code, _ what: String) -> CryptoError {
        var reasons: [String] = []
        while true {
            let e = ERR_get_error()
            if e == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            reasons.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return CryptoError(code, reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))")
    }

    /// Discards whatever an expected failure left on the error queue.
    package static func clearErrors() { ERR_clear_error() }
}
