// netlink(7): what can be wrong with a reply from the kernel. A short read (`truncated`: the buffer ends
// before a length the bytes themselves announce) is kept apart from malformed input (a length field that
// contradicts its own header, an attribute that cannot hold its value), as swift-nio's frame decoders do.

/// A decoding failure of a netlink message or attribute: a stable `code`, the byte `offset` into the
/// decoded buffer where it was found, and a short `context` naming the structure ("xfrm_usersa_info" ...).
public struct NetlinkDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable failure codes. The raw values are part of the API (logs, tests): never rename.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The buffer ends before a header, or before the length a header announces.
        case truncated
        /// An `nlmsg_len` below the 16-byte header, or an `nla_len` below the 4-byte attribute header.
        case badLength
        /// A fixed structure or attribute value is shorter than its kernel layout.
        case shortValue
        /// A field carries a value this model has no meaning for (unknown address family ...).
        case unsupportedValue
        /// A message of a type the caller did not expect here.
        case unexpectedType
    }

    public var code: Code
    public var offset: Int
    public var context: String

    public init(_ code: Code, offset: Int, context: String) {
        self.code = code
        self.offset = offset
        self.context = context
    }

    /// True when more bytes might complete the input (a short read rather than malformed input).
    public var isTruncation: Bool { code == .truncated }

    public var description: String { "netlink decode error \(code.rawValue) at offset \(offset): \(context)" }
}
