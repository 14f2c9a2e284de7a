import KernelModel

/// What became of one message of a batch: the request it answers and, if it failed, why.
public struct NetlinkOutcome: Hashable, Sendable {
    public var request: NetlinkRequest
    public var error: NetlinkError?

    public init(request: NetlinkRequest, error: NetlinkError?) {
        self.request = request
        self.error = error
    }

    public var succeeded: Bool { error == nil }
}
