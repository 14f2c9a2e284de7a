/// A keyed integrity transform (transform type 3): HMAC truncated to the ICV length, e.g.
/// HMAC-SHA-256-128 (RFC 4868). Named `IntegrityMAC` because `IntegrityAlgorithm` is the enum of
/// algorithm identifiers.
///
/// Keyed once per SA direction and reused per packet; not `Sendable` (the keyed context is
/// mutated per call).
public protocol IntegrityMAC {
    var algorithm: IntegrityAlgorithm { get }
    /// Truncated ICV length in bytes.
    var icvLength: Int { get }

    /// Writes the truncated ICV over `data` into `icv` (at least `icvLength` bytes).
    func computeICV(over data: UnsafeRawBufferPointer, into icv: UnsafeMutableRawBufferPointer) throws(CryptoError)

    /// Throws `.authenticationFailed` unless `icv` matches; compares in constant time.
    /// Throws `.truncated` when `icv` is shorter than `icvLength`.
    func verifyICV(over data: UnsafeRawBufferPointer, icv: UnsafeRawBufferPointer) throws(CryptoError)
}
