/// A message to send together with the words that describe it in an error ("adding route 198.18.2.0/24
/// dev vd-dc2"), so a failure in the middle of a batch names the object and not a sequence number.
/// The socket assigns `message.sequence` and `message.portID` when it sends; tests set them to reproduce
/// what iproute2 sent.
public struct NetlinkRequest: Hashable, Sendable {
    public var message: NetlinkMessage
    public var summary: String

    public init(_ message: NetlinkMessage, summary: String) {
        self.message = message
        self.summary = summary
    }

    /// The request with its header's sequence number and port id set.
    public func numbered(sequence: UInt32, portID: UInt32 = 0) -> NetlinkRequest {
        var copy = self
        copy.message.sequence = sequence
        copy.message.portID = portID
        return copy
    }

    /// The bytes to send.
    public func encoded() -> [UInt8] { message.encoded() }
}
