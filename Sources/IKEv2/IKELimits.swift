// RFC 7296 §3: work bounds for decoding untrusted messages (not protocol constants).

/// Upper bounds enforced while decoding so that a hostile datagram cannot make the decoder do
/// unbounded work or allocate many small objects. Exceeding one is `IKEDecodeError.Code.limitExceeded`.
public enum IKELimits {
    /// Payloads in one chain (outer message, or the plaintext of one SK payload).
    public static let maxPayloads = 256
    /// Proposals in one SA payload (the proposal number is one octet).
    public static let maxProposals = 255
    /// Transforms in one proposal (the count is one octet).
    public static let maxTransforms = 255
    /// Attributes in one transform (RFC 7296 defines only Key Length).
    public static let maxTransformAttributes = 16
    /// Traffic selectors in one TS payload (the count is one octet).
    public static let maxTrafficSelectors = 255
    /// Configuration attributes in one CP payload.
    public static let maxConfigurationAttributes = 256
}
