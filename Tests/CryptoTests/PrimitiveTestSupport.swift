import CryptoCore

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
