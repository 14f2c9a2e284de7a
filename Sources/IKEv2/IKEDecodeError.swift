// RFC 7296 §2.5 / §3: what can be wrong with an IKEv2 message on the wire.
// A short read of the datagram (`truncated`) is distinct from every malformed case, in the manner of
// swift-nio's WebSocketFrameDecoder; the engine maps malformed input to INVALID_SYNTAX or a silent drop,
// and `invalidMajorVersion` to an INVALID_MAJOR_VERSION notification (RFC 7296 §1.5, §2.5).

/// A decoding failure: a stable `code`, the byte `offset` (into the decoded buffer) where it was found,
/// and a short human `context` ("SA proposal", "TSi selector" ...).
public struct IKEDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable failure codes. The raw values are part of the API (logs, metrics, tests): never rename.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The input ends before the IKE header or before the length the header announces.
        case truncated
        /// Major version above 2: answer INVALID_MAJOR_VERSION (RFC 7296 §2.5).
        case invalidMajorVersion
        /// Major version below 2 (IKEv1 or garbage): not ours, drop.
        case obsoleteMajorVersion
        /// The header's Length field is smaller than the header itself.
        case badHeaderLength
        /// The input is longer than the header's Length field.
        case lengthMismatch
        /// A generic payload header's Payload Length is below its minimum or runs past its region.
        case badPayloadLength
        /// A Next Payload field announces a payload but the region has ended.
        case missingPayload
        /// Bytes left over after the last payload of a chain or after a payload's last field.
        case trailingBytes
        /// A field inside a payload runs past that payload's declared length.
        case fieldOverrun
        /// A proposal/transform/selector/attribute length is below its minimum or runs past its payload.
        case badSubstructureLength
        /// A proposal's or transform's "Last Substruc" field is not 0/2 (0/3) or disagrees with the data.
        case invalidSubstructure
        /// SPI Size not allowed for the protocol (RFC 7296 §3.3.1, §3.10, §3.11).
        case invalidSPISize
        /// A count field (transforms, selectors, SPIs) disagrees with the data present.
        case countMismatch
        /// Traffic selector length wrong for its type (RFC 7296 §3.13.1).
        case badSelectorLength
        /// SKF Fragment Number is 0 or above Total Fragments, or Total Fragments is 0 (RFC 7383 §2.5).
        case invalidFragmentNumber
        /// An SK or SKF payload inside a decrypted SK payload.
        case nestedEncryptedPayload
        /// A work limit of `IKELimits` was exceeded (too many payloads, proposals, transforms ...).
        case limitExceeded
    }

    public var code: Code
    public var offset: Int
    public var context: String

    public init(_ code: Code, offset: Int, context: String) {
        self.code = code
        self.offset = offset
        self.context = context
    }

    /// True when more bytes might complete the message (a short read rather than malformed input).
    public var isTruncation: Bool { code == .truncated }

    public var description: String { "IKEv2 decode error \(code.rawValue) at offset \(offset): \(context)" }
}
