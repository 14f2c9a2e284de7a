import CryptoCore

/// Decodes hex as printed in RFCs (spaces, newlines and colons allowed). Test-only: fixed
/// literals, so a bad digit is a bug in the test and yields an empty array that fails the KAT.
func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { $0.isHexDigit }
    guard digits.count % 2 == 0 else { return [] }
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else { return [] }
        out.append(byte)
        index = next
    }
    return out
}

extension SecureBytes {
    /// Test-only copy of the secret, for comparing with published vectors.
    var revealed: [UInt8] { withUnsafeBytes { Array($0) } }
}

/// The error code a throwing expression produced, or nil if it did not throw a CryptoError.
func errorCode<T>(_ body: () throws(CryptoError) -> T) -> CryptoError.Code? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.code
    }
}
