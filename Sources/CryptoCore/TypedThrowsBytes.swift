/// `Array.withUnsafeBytes` is `rethrows`, which erases a typed error to `any Error`. These
/// overloads keep `throws(CryptoError)` intact across the many places a byte array is lent to C.
/// `@inlinable` so callers in other modules get them specialized: unspecialized, each call
/// instantiated `Result` metadata at run time (~1,500 instructions per call, measured with
/// callgrind on the AEAD seal path).
extension Array where Element == UInt8 {
    @inlinable
    public func withBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let outcome: Swift.Result<Result, Failure> = withUnsafeBytes { bytes in
            Swift.Result { () throws(Failure) -> Result in try body(bytes) }
        }
        return try outcome.get()
    }

    @inlinable
    public mutating func withMutableBytes<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let outcome: Swift.Result<Result, Failure> = withUnsafeMutableBytes { bytes in
            Swift.Result { () throws(Failure) -> Result in try body(bytes) }
        }
        return try outcome.get()
    }
}
