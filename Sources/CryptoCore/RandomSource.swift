/// Where every random byte Viaduct uses comes from (nonces, SPIs, IVs, DH private keys). Injected,
/// never global, so the pure core stays deterministic under test (`SeededRandomSource`) and the
/// shell decides the production source (`OpenSSLRandomSource` in the Crypto module).
public protocol RandomSource {
    /// Fills every byte of `buffer`, or throws: a source that cannot deliver must never hand back
    /// a partly filled or predictable buffer.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError)

    /// A source for something that lives apart from its maker (an IKE SA the session hands to
    /// the endpoint's table): never a copy of a stateful generator's state, which would repeat
    /// its stream, but an independent one.
    mutating func split() -> any RandomSource
}

extension RandomSource {
    /// Convenience for non-secret values (nonces, SPIs, explicit IVs).
    public mutating func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withMutableBytes { (buffer) throws(CryptoError) in try fill(buffer) }
        return out
    }

    /// Random key material that never passes through an ordinary array.
    public mutating func secureBytes(_ count: Int) throws(CryptoError) -> SecureBytes {
        try SecureBytes(count: count) { (buffer) throws(CryptoError) in try fill(buffer) }
    }
}
