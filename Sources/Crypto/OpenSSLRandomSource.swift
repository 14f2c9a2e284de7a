import COpenSSL
import CryptoCore

/// The production `RandomSource`: OpenSSL's CTR-DRBG, seeded from the kernel. Stateless on the
/// Swift side and thread-safe (OpenSSL 3 keeps per-thread DRBGs), hence `Sendable`.
public struct OpenSSLRandomSource: RandomSource, Sendable {
    public init() {}

    /// OpenSSL's DRBG is shared state behind the call: another handle is the same source.
    public func split() -> any RandomSource { OpenSSLRandomSource() }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let chunk = min(buffer.count - offset, Int(Int32.max))
            guard RAND_bytes(base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), Int32(chunk)) == 1 else {
                throw OpenSSL.error(.library, "RAND_bytes")
            }
            offset += chunk
        }
    }
}
