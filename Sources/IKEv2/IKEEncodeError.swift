// RFC 7296 §3: encoding fails only when a value cannot be represented in its wire field.

/// A value does not fit its wire field (a payload over 65535 bytes, more than 255 transforms,
/// an SPI longer than 255 bytes, an SK payload that is not last ...).
public struct IKEEncodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var context: String

    public init(context: String) { self.context = context }

    public var description: String { "IKEv2 encode error: \(context)" }
}
