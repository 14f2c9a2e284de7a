/// Why an ESP operation refused a packet: a stable `code` that tests, counters and logs compare,
/// plus a fixed description and one number of context.
///
/// The context is a `StaticString` and an `Int` rather than a formatted `String` on purpose:
/// a flood of garbage packets must not turn into a flood of heap allocations on the receive path.
public struct ESPError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Inbound: the packet is dropped and counted under `dropReason`.
        /// Shorter than SPI, sequence number, IV, the two trailer octets and the ICV.
        public static let truncated = Code(rawValue: "truncated")
        /// The SPI is not the one this SA (or any SA in the table) was created for.
        public static let unknownSPI = Code(rawValue: "unknown-spi")
        /// Sequence number 0, or an ESN that would reconstruct before 1 or past 2^64 - 1.
        public static let invalidSequence = Code(rawValue: "invalid-sequence")
        /// Already received (RFC 4303 §3.4.3).
        public static let replayed = Code(rawValue: "replayed")
        /// Left of the anti-replay window (RFC 4303 §3.4.3).
        public static let tooOld = Code(rawValue: "too-old")
        /// The ICV did not verify (RFC 4303 §3.4.4).
        public static let authenticationFailed = Code(rawValue: "authentication-failed")
        /// Pad Length points before the start of the payload.
        public static let badPadLength = Code(rawValue: "bad-pad-length")
        /// Padding bytes are not 1, 2, 3, ... (RFC 4303 §2.4).
        public static let badPadding = Code(rawValue: "bad-padding")
        /// Next Header is neither 4 (IPv4), 41 (IPv6) nor 59 (dummy packet).
        public static let unknownNextHeader = Code(rawValue: "unknown-next-header")
        /// The inner packet's version or header length does not fit the Next Header or the payload.
        public static let badInnerHeader = Code(rawValue: "bad-inner-header")
        /// The inner IP header claims more bytes than the ESP payload holds.
        public static let innerLengthExceedsPayload = Code(rawValue: "inner-length-exceeds-payload")
        /// The SA reached its hard byte or packet lifetime (RFC 4301 §4.4.2.1); it must be deleted.
        public static let lifetimeExpired = Code(rawValue: "lifetime-expired")
        /// The crypto library failed for a reason other than a bad ICV.
        public static let cryptoFailure = Code(rawValue: "crypto-failure")

        // Outbound: the caller's packet or buffer cannot be sent.
        /// The next sequence number would wrap (RFC 4303 §3.3.3): the SA must be rekeyed.
        public static let sequenceExhausted = Code(rawValue: "sequence-exhausted")
        /// Fewer bytes before the inner packet than the ESP header and IV need.
        public static let insufficientHeadroom = Code(rawValue: "insufficient-headroom")
        /// Fewer bytes after the inner packet than padding, trailer and ICV need.
        public static let insufficientTailroom = Code(rawValue: "insufficient-tailroom")
        /// The packet to send is empty or not IPv4/IPv6 (tunnel mode carries only IP).
        public static let unsupportedInnerPacket = Code(rawValue: "unsupported-inner-packet")
        /// The range handed in lies outside the buffer.
        public static let invalidRange = Code(rawValue: "invalid-range")
        /// The SA could not be created (bad window size, non-AEAD cipher, ...).
        public static let invalidConfiguration = Code(rawValue: "invalid-configuration")
    }

    public var code: Code
    /// What was wrong, in words fixed at compile time.
    public var detail: StaticString
    /// The number that was wrong (a length, an octet, a sequence number), or -1 when none applies.
    public var value: Int

    public init(_ code: Code, _ detail: StaticString, value: Int = -1) {
        self.code = code
        self.detail = detail
        self.value = value
    }

    public var description: String {
        value >= 0 ? "\(code): \(detail) (\(value))" : "\(code): \(detail)"
    }

    /// The statistics counter an inbound drop with this code is counted under.
    public var dropReason: ESPDropReason {
        switch code {
        case .authenticationFailed: .badICV
        case .replayed, .tooOld, .invalidSequence: .replay
        case .badPadLength, .badPadding: .padding
        case .unknownNextHeader: .unknownNextHeader
        case .unknownSPI: .unknownSPI
        case .lifetimeExpired: .lifetimeExpired
        case .cryptoFailure: .cryptoFailure
        default: .malformed
        }
    }

    public static func == (lhs: ESPError, rhs: ESPError) -> Bool {
        lhs.code == rhs.code && lhs.value == rhs.value && lhs.detail.description == rhs.detail.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(value)
    }
}
