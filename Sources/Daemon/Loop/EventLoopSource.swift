import Glibc
import IKEv2

/// Extra descriptors the daemon's single thread polls besides the IKE sockets and signals
/// (the control socket and its clients). The loop asks for the descriptors before each
/// `poll()` and hands back the same entries with `revents` filled in, so a source never
/// blocks the loop and never needs a thread or a lock of its own.
public protocol EventLoopSource: AnyObject {
    func pollDescriptors() -> [pollfd]
    func handle(_ ready: ArraySlice<pollfd>, now: IKEInstant)
    /// Closes everything the source owns; called once when the loop ends.
    func close()
    /// When the source wants `handle` called even if none of its descriptors is ready.
    var nextDeadline: IKEInstant? { get }
}

extension EventLoopSource {
    public var nextDeadline: IKEInstant? { nil }
}
