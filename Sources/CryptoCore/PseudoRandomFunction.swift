/// The negotiated PRF (transform type 2), the building block of prf+ and the IKEv2 key schedule
/// (RFC 7296 §2.13) and of AUTH payload computation (§2.15).
///
/// Conformers may keep a reusable library context, so they are usually classes that are not
/// `Sendable`: one instance per SA, used from one isolation domain.
public protocol PseudoRandomFunction {
    var algorithm: PRFAlgorithm { get }

    /// Bytes written by `compute`.
    var outputLength: Int { get }

    /// prf(key, data) into `output`, which must hold at least `outputLength` bytes.
    func compute(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer,
                 into output: UnsafeMutableRawBufferPointer) throws(CryptoError)
}

extension PseudoRandomFunction {
    /// prf(key, data) for non-secret results (AUTH octets, test vectors).
    public func compute(key: [UInt8], data: [UInt8]) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outputLength)
        try key.withBytes { (k) throws(CryptoError) in
            try data.withBytes { (d) throws(CryptoError) in
                try out.withMutableBytes { (o) throws(CryptoError) in try compute(key: k, data: d, into: o) }
            }
        }
        return out
    }

    /// prf(key, data) where the result is key material.
    public func computeSecret(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) throws(CryptoError) -> SecureBytes {
        try SecureBytes(count: outputLength) { (o) throws(CryptoError) in try compute(key: key, data: data, into: o) }
    }
}
