/// The counters an inbound drop lands in. Coarser than `ESPError.Code` on purpose: an operator
/// asks "are we being replayed at, or is the key wrong?", not which of two padding checks fired.
public enum ESPDropReason: String, Sendable, Hashable, CaseIterable {
    /// ICV verification failed: wrong key, corruption, or forgery.
    case badICV = "bad-icv"
    /// Duplicate, left of the window, or an impossible sequence number.
    case replay
    /// Truncated, or the decrypted inner packet is not a sane IP packet.
    case malformed
    /// Pad Length or the padding bytes are wrong (RFC 4303 §2.4).
    case padding
    /// Next Header is not 4, 41 or 59.
    case unknownNextHeader = "unknown-next-header"
    /// No SA has this SPI (counted by the SA table, never by an SA).
    case unknownSPI = "unknown-spi"
    /// Past the hard lifetime: the SA is waiting to be deleted.
    case lifetimeExpired = "lifetime-expired"
    /// The crypto library failed on a well-formed packet.
    case cryptoFailure = "crypto-failure"
}
